"""The answer path as named stages: understand → retrieve → decide → compose → check → repair
or fall back (answering/pipeline.py drives them)."""

from answering.pipeline import Answerer
from answering.types import Answer, Citation, StreamEvent

__all__ = ["Answer", "Answerer", "Citation", "StreamEvent"]
