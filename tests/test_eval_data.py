"""The development data and its sealed held-out part (eval/README.md): every batch well formed,
the held-out documents in no development index, and the split's shares as promised. The test
reads the held-out files only as a program does (counts, substrings), so nobody has to."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from partybot.evaluation import load_cases
from tests.conftest import REPO, SAMPLES, SHARED_EVAL

DEV, HELDOUT = REPO / "eval" / "dev", REPO / "eval" / "heldout"
SHARED_V2 = SHARED_EVAL.parent / "v2"


def batches(part: Path) -> list[Path]:
    return sorted(p for p in part.glob("*") if (p / "questions.jsonl").exists())


ALL = batches(DEV) + batches(HELDOUT)


def _docs(batch: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted((batch / "docs").glob("*")) if p.is_file()}


def test_there_is_a_development_part_and_a_held_out_part():
    assert batches(DEV) and batches(HELDOUT)


@pytest.mark.parametrize("batch", ALL, ids=lambda p: p.name)
def test_a_batch_is_well_formed(batch: Path):
    docs = _docs(batch)
    assert docs and all(name.startswith(batch.name + "-") for name in docs)
    cases = load_cases(batch / "questions.jsonl")
    assert all(c.id.startswith(batch.name + "-") and c.lang in ("vi", "en", "ar") for c in cases)
    for c in cases:
        # a version question the sources say nothing about has no gold document: it is to be refused
        assert bool(c.gold_docs) or c.type in ("unanswerable", "version"), c.id
        assert not (c.gold_docs and c.type == "unanswerable"), c.id
        assert set(c.gold_docs) <= set(docs), c.id
        for span in c.gold_spans:
            assert any(span in docs[d] for d in c.gold_docs), (c.id, span[:40])
        if c.answerable:
            assert c.answer_facts and c.gold_spans, c.id
    near_misses = sum(not c.answerable for c in cases)
    assert near_misses / len(cases) >= 0.2
    assert {c.lang for c in cases} == {"vi", "en", "ar"}
    for line in (batch / "relations.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            assert r["relation"] in ("replaces", "amends", "implements")
            assert r["sentence"] in docs[r["doc"]], r["sentence"][:40]


def test_ids_and_file_names_are_unique_across_both_parts():
    ids = [c.id for b in ALL for c in load_cases(b / "questions.jsonl")]
    assert len(ids) == len(set(ids))
    names = [n for b in ALL for n in _docs(b)]
    assert len(names) == len(set(names))


def test_the_held_out_part_is_a_third_and_in_no_development_index():
    dev_docs = [n for b in batches(DEV) for n in _docs(b)] + [p.name for p in SAMPLES.glob("*")]
    dev_docs += [p.name for p in (SHARED_V2 / "docs").glob("*")] if SHARED_V2.exists() else []
    held_docs = [n for b in batches(HELDOUT) for n in _docs(b)]
    assert not set(held_docs) & set(dev_docs)
    dev_q = sum(len(load_cases(b / "questions.jsonl")) for b in batches(DEV))
    for shared in (SHARED_EVAL, SHARED_V2 / "dev.jsonl"):
        dev_q += len(load_cases(shared)) if shared.exists() else 0
    held_q = sum(len(load_cases(b / "questions.jsonl")) for b in batches(HELDOUT))
    new_dev_docs = len(dev_docs) - len(list(SAMPLES.glob("*")))  # the samples are in both indexes
    assert held_q / (held_q + dev_q) >= 1 / 3 - 0.01
    assert len(held_docs) / (len(held_docs) + new_dev_docs) >= 1 / 3 - 0.01
    # the Makefile indexes the held-out documents only for `make eval-heldout`
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    dev_line = next(line for line in makefile.splitlines() if line.startswith("DEV_DOCS"))
    assert "heldout" not in dev_line
