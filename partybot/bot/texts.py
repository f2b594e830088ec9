"""The bot's user-facing texts: ``prompts/bot.{lang}.toml``, one file per language.

Values put into a text are HTML-escaped here (texts are sent with HTML parse mode), so a
document title or a user's input can never inject markup.
"""

from __future__ import annotations

import html
import tomllib
from functools import lru_cache
from pathlib import Path

from answering.prompts import LANGS, PROMPTS_DIR

LANG_NAMES = {"vi": "Tiếng Việt", "ar": "العربية", "en": "English"}


@lru_cache(maxsize=None)
def texts(lang: str, directory: Path = PROMPTS_DIR) -> dict:
    lang = lang if lang in LANGS else "en"
    data = tomllib.loads((directory / f"bot.{lang}.toml").read_text(encoding="utf-8"))
    data["_version"] = f"bot.{lang}@{data.get('version')}"
    return data


def t(lang: str, key: str, /, **values) -> str:
    """The text ``key`` in ``lang`` with ``values`` filled in (escaped)."""
    template = texts(lang)[key]
    return template.format(**{k: html.escape(str(v), quote=False) for k, v in values.items()})


def user_lang(code: str | None) -> str | None:
    """Telegram's ``language_code`` (e.g. "vi", "ar-SA", "en-GB") → one of ours, or None."""
    if not code:
        return None
    base = code.split("-")[0].lower()
    return base if base in LANGS else None


def t_plain(lang: str, key: str, /, **values) -> str:
    """For texts sent without parse mode (the streaming message): nothing is escaped."""
    return texts(lang)[key].format(**values)
