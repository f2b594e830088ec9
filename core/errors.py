"""A small error hierarchy whose members carry a message fit for the user."""

from __future__ import annotations


class PartybotError(Exception):
    """Base class; ``str(err)`` is a clear, actionable message (English, for logs and CLI)."""


class ConfigError(PartybotError):
    """A setting is missing or wrong."""


class ModelError(PartybotError):
    """A model is missing, incomplete or fails verification."""


class IngestError(PartybotError):
    """A document could not be ingested; ``source`` names it, ``reason`` says why."""

    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class IndexError_(PartybotError):
    """The index (Chroma or the catalog) cannot be used."""
