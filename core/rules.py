"""Heuristics as data: every rule of the answer path has a name, a one-line reason and the
setting that holds its value, so that `partybot eval --ablate` can switch each one off and
show what it is worth.

A rule is declared once, next to the code that applies it (``RULE = rule(...)`` at module
level), and read through a :class:`Rules` view built from the settings: ``rules.on(RULE)`` for
a switch, ``rules.value(RULE)`` for a threshold or weight (its ``off`` value when switched
off). ``PARTYBOT_RULES_OFF=name,name`` switches rules off in a deployment too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from core.errors import ConfigError


@dataclass(frozen=True)
class Rule:
    name: str
    stage: str  # the stage that applies it: retrieve, understand, decide, compose, check, repair
    reason: str  # why it is true in general, in one line
    setting: str | None = None  # the Settings field holding its value (None: a plain switch)
    off: Any = False  # its value when switched off

    def __str__(self) -> str:
        return self.name


_REGISTRY: dict[str, Rule] = {}


def rule(name: str, stage: str, reason: str, *, setting: str | None = None, off: Any = False) -> Rule:
    """Declare a rule (once, at import of the module that applies it)."""
    found = _REGISTRY.get(name)
    new = Rule(name, stage, reason, setting, off)
    if found is not None and found != new:
        raise ValueError(f"rule {name!r} declared twice, differently")
    _REGISTRY[name] = new
    return new


def registered() -> list[Rule]:
    """Every declared rule, in the order of the stages that apply them."""
    order = ["retrieve", "understand", "decide", "compose", "repair", "check"]
    return sorted(_REGISTRY.values(), key=lambda r: (order.index(r.stage) if r.stage in order else 99,))


class Rules:
    """The rules' values for one answerer: the settings' values, except the rules switched off."""

    def __init__(self, settings: object | None = None, off: Iterable[str] = ()):
        self._settings = settings
        self.off = frozenset(off) | frozenset(getattr(settings, "rules_off", None) or ())
        unknown = sorted(n for n in self.off if n not in _REGISTRY)
        if unknown:
            raise ConfigError(f"unknown rule(s) {', '.join(unknown)} in PARTYBOT_RULES_OFF; "
                              f"known: {', '.join(sorted(_REGISTRY))}")

    def without(self, *names: str) -> "Rules":
        return Rules(self._settings, self.off | set(names))

    def on(self, r: Rule) -> bool:
        return r.name not in self.off

    def value(self, r: Rule, default: Any = None) -> Any:
        if r.name in self.off:
            return r.off
        if r.setting and self._settings is not None and hasattr(self._settings, r.setting):
            return getattr(self._settings, r.setting)
        return default

