"""partybot: multilingual question answering over Party regulations."""

__version__ = "0.1.0"
