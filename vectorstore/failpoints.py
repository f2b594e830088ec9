"""Named crash points for the fault-injection tests: ``PARTYBOT_FAILPOINT=put:after_vectors``
makes the process kill itself (SIGKILL, as a power cut or the OOM killer would) when it reaches
that point. Unset — always, outside those tests — it costs one dictionary lookup."""

from __future__ import annotations

import os
import signal

ENV = "PARTYBOT_FAILPOINT"


def failpoint(name: str) -> None:
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
