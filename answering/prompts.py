"""Load the prompt and message files of ``prompts/`` (see prompts/README.md)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
LANGS = ("vi", "ar", "en")


@dataclass(frozen=True)
class Prompt:
    purpose: str
    lang: str
    version: str  # e.g. "answer.vi@1"
    system: str
    user: str
    prefill: str = ""  # the start of the model's reply, written for it (local model only)

    def render(self, *, sources: str, question: str) -> tuple[str, str]:
        # str.replace, not str.format: sources and questions may contain braces.
        return self.system, self.user.replace("{sources}", sources).replace("{question}", question)


@lru_cache(maxsize=None)
def load_prompt(purpose: str, lang: str, directory: Path = PROMPTS_DIR) -> Prompt:
    path = directory / f"{purpose}.{lang}.txt"
    text = path.read_text(encoding="utf-8")
    m = re.match(r"version:\s*(\S+)\s*\n--- system ---\n(.*?)\n--- user ---\n(.*?)"
                 r"(?:\n--- prefill ---\n(.*))?\Z", text, re.S)
    if not m:
        raise ValueError(f"{path}: expected 'version: N', '--- system ---', '--- user ---' "
                         f"(and optionally '--- prefill ---')")
    version, system, user, prefill = m.groups()
    needed = ["{question}"] + (["{sources}"] if purpose in ("answer", "strict") else [])
    if any(n not in user for n in needed):
        raise ValueError(f"{path}: the user section needs {' and '.join(needed)}")
    return Prompt(purpose, lang, f"{purpose}.{lang}@{version}", system.strip(), user.strip(),
                  (prefill or "").strip())


@lru_cache(maxsize=None)
def messages(lang: str, directory: Path = PROMPTS_DIR) -> dict:
    path = directory / f"messages.{lang}.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    data["_version"] = f"messages.{lang}@{data.get('version')}"
    return data


@lru_cache(maxsize=None)
def topics(directory: Path = PROMPTS_DIR) -> dict:
    """On- and off-topic descriptions for the off-topic gate (prompts/topics.toml)."""
    data = tomllib.loads((directory / "topics.toml").read_text(encoding="utf-8"))
    if not data.get("on_topic") or not data.get("off_topic"):
        raise ValueError(f"{directory / 'topics.toml'}: needs non-empty on_topic and off_topic lists")
    data["_version"] = f"topics@{data.get('version')}"
    return data
