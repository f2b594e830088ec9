"""The README is the front door: every command, make target, setting and page it names exists,
and it stays short enough to read (the long explanations live in docs/)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_the_readme_is_a_front_door():
    assert len(README.splitlines()) <= 200


def test_every_partybot_command_it_names_exists():
    from partybot.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    named = re.findall(r"(?:bin/partybot|`partybot) ([a-z][a-z-]+)(?: ([a-z][a-z-]+))?", README)
    assert named
    for command, second in named:
        assert command in sub.choices, command
        nested = [a for a in sub.choices[command]._actions if a.__class__.__name__ == "_SubParsersAction"]
        if nested and second:
            assert second in nested[0].choices, f"partybot {command} {second}"


def test_every_make_target_it_names_exists():
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"(?m)^([a-z][a-z-]*):", makefile))
    named = set(re.findall(r"(?m)^make ([a-z][a-z-]*)", README)) | set(re.findall(r"`make ([a-z][a-z-]*)", README))
    assert named and named <= targets, named - targets


def test_every_setting_it_names_is_a_setting():
    from partybot.settings import Settings

    example = (REPO / ".env.example").read_text(encoding="utf-8")
    known = set(re.findall(r"(?m)^#?\s*([A-Z][A-Z0-9_]+)=", example))
    fields = {f"PARTYBOT_{name.upper()}" for name in Settings.model_fields}
    named = set(re.findall(r"\b((?:PARTYBOT|TELEGRAM|CHROMA|LLM|REVIEW|DATABASE|ADMIN)_[A-Z0-9_]+)\b", README))
    assert named
    for name in named:
        assert name in known or name in fields, f"{name} is in neither .env.example nor the settings"


def test_every_page_it_links_exists():
    for target in re.findall(r"\]\(([^)#]+)\)", README):
        path = (REPO / target).resolve()
        assert path.exists(), target
