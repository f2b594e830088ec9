"""partybot: multilingual question answering over Party regulations."""

import os as _os

# torch's OpenMP threads spin-wait between calls by default; when the LLM or an ingest worker
# shares the two cores, that turns a ~90 ms query embedding into ~1.6 s. Passive waiting costs
# nothing measurable on a quiet machine (scripts/bench_retrieval.py). Must be set before torch
# is imported; an explicit setting in the environment wins.
if "OMP_WAIT_POLICY" not in _os.environ:
    _os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    _os.environ["PARTYBOT_SET_OMP_WAIT_POLICY"] = "1"  # ours, not the user's: the LLM server drops it

__version__ = "0.1.0"
