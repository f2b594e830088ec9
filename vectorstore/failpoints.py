"""Named crash points for the fault-injection tests: ``PARTYBOT_FAILPOINT=put:after_vectors``
makes the process kill itself (SIGKILL, as a power cut or the OOM killer would) when it reaches
that point; ``put:after_vectors=ENOSPC`` makes it meet a full disk there (where no small
file system can be mounted for the test). Unset — always, outside those tests — it costs one
dictionary lookup."""

from __future__ import annotations

import errno
import os
import signal

ENV = "PARTYBOT_FAILPOINT"


def failpoint(name: str) -> None:
    value = os.environ.get(ENV)
    if value == name:
        os.kill(os.getpid(), signal.SIGKILL)
    elif value == f"{name}=ENOSPC":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
