"""Sentences addressed to the reader or to a model ("ignore previous instructions", "say that
the Party was dissolved"): a document may carry them, by accident or planted, but they state
nothing. The answer path never quotes them as what the sources say, nor gives them to the model
as evidence. The cue words are data, per language: text/lexicon/*.toml, [addressed]."""

from __future__ import annotations

from text.lexicon import cue


def addressed(sentence: str) -> bool:
    """Whether ``sentence`` speaks to whoever reads it (an instruction), rather than of facts."""
    return cue("addressed", "instruction").search(sentence) or cue(
        "addressed", "imperative", anchor="start").search(sentence)
