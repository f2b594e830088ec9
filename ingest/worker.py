"""Parse untrusted documents in a bounded child process.

A PDF or .docx can be crafted (or merely broken) so that its parser eats all memory, loops for
minutes or crashes. So the bytes are handed to a fresh ``python -m ingest.worker`` that imports
only ``ingest.extract`` and the one parser it needs (not torch, not chromadb), caps its own
address space with ``RLIMIT_AS`` and its CPU time with ``RLIMIT_CPU`` (no core dumps), and
is killed when the wall-clock timeout passes. Whatever happens, the caller gets an
:class:`Extracted` or an :class:`IngestError` with a one-line reason (an ``IngestError``
raised in the child comes back with its reason intact).

Protocol: the document's bytes on the child's stdin; one JSON object on its stdout,
``{"ok": true, "text", "title", "kind", "meta"}`` or ``{"ok": false, "reason"}``. The child's
own stdout is redirected to stderr first, so a library that prints cannot corrupt the reply.

Start-up cost is one interpreter start plus the parser import: about 50 ms for text, about
0.15-0.2 s for PDF/DOCX/HTML (measured on a 2-core VM), small next to embedding.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ingest.extract import Extracted, check_supported
from core.errors import IngestError

DEFAULT_MEMORY_MB = 2048
_REPO_ROOT = str(Path(__file__).resolve().parent.parent)
_STDERR_TAIL = 300


def _too_big(source: str, size: int, max_bytes: int) -> IngestError:
    return IngestError(source, f"file is {size / 2**20:.1f} MB, over the {max_bytes / 2**20:g} MB limit "
                       "(PARTYBOT_MAX_FILE_MB)")


def extract_path_isolated(path: Path, *, max_bytes: int, timeout_s: float,
                          memory_mb: int = DEFAULT_MEMORY_MB, _test_hook: str | None = None) -> Extracted:
    """Extract a file on disk in a bounded child process (size checked before reading)."""
    path = Path(path)
    source = path.name
    check_supported(source)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise IngestError(source, "no such file or folder") from None
    except OSError as exc:
        raise IngestError(source, f"cannot read the file: {exc.strerror or exc}") from None
    if size > max_bytes:
        raise _too_big(source, size, max_bytes)
    try:
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)  # the file may have grown since stat()
    except IsADirectoryError:
        raise IngestError(source, "is a folder, not a file") from None
    except OSError as exc:
        raise IngestError(source, f"cannot read the file: {exc.strerror or exc}") from None
    return extract_isolated(data, source, max_bytes=max_bytes, timeout_s=timeout_s,
                            memory_mb=memory_mb, _test_hook=_test_hook)


def extract_isolated(data: bytes, source: str, *, max_bytes: int, timeout_s: float,
                     memory_mb: int = DEFAULT_MEMORY_MB, _test_hook: str | None = None) -> Extracted:
    """Extract ``data`` (named ``source``, whose extension gives the type) in a child process.

    ``memory_mb`` caps the child's address space; ``timeout_s`` is wall-clock, start-up included.
    ``_test_hook`` is for tests only: ``"sleep:SECONDS"``, ``"oom"``, ``"crash"`` or ``"stdout"``
    make the child misbehave in that way before it parses.
    """
    check_supported(source)
    if len(data) > max_bytes:
        raise _too_big(source, len(data), max_bytes)
    cmd = [sys.executable, "-m", "ingest.worker", "--source", source, "--memory-mb", str(int(memory_mb)),
           "--cpu-s", str(int(timeout_s) + 5)]
    if _test_hook:
        cmd += ["--test-hook", _test_hook]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_REPO_ROOT, env.get("PYTHONPATH")) if p)
    env["PYTHONIOENCODING"] = "utf-8"
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env, cwd=_REPO_ROOT)
    except OSError as exc:
        raise IngestError(source, f"cannot start the parsing worker: {exc}") from None
    try:
        out, err = proc.communicate(input=data, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise IngestError(source, f"parsing took longer than {timeout_s:g} s (PARTYBOT_PARSE_TIMEOUT_S); "
                          "the file may be malformed or too complex") from None
    except BaseException:
        proc.kill()
        proc.communicate()
        raise
    return _reply(source, proc.returncode, out, err, memory_mb)


def _reply(source: str, code: int, out: bytes, err: bytes, memory_mb: int) -> Extracted:
    reply = None
    if out:
        try:
            reply = json.loads(out)
        except ValueError:
            reply = None
    if isinstance(reply, dict) and "ok" in reply:
        if reply["ok"]:
            return Extracted(reply["text"], reply.get("title"), reply["kind"], reply.get("meta") or {})
        raise IngestError(source, reply.get("reason") or "parsing failed")
    if code < 0:
        import signal

        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        if -code in (signal.SIGKILL, signal.SIGXCPU):
            raise IngestError(source, f"parser was killed ({name}): probably out of memory "
                              f"(limit {memory_mb} MB) or CPU time; the file may be malformed")
        raise IngestError(source, f"parser crashed ({name}); the file may be malformed")
    tail = " ".join(err.decode("utf-8", "replace").strip().splitlines()[-1:])[-_STDERR_TAIL:]
    if "MemoryError" in tail:
        raise IngestError(source, f"parser ran out of memory (limit {memory_mb} MB); the file may be malformed")
    raise IngestError(source, f"parser crashed (exit code {code})" + (f": {tail}" if tail else ""))


# --- the child ---------------------------------------------------------------------------------

def _limit(memory_mb: int, cpu_s: int) -> None:
    try:
        import resource
    except ImportError:  # not POSIX: the wall-clock timeout still applies
        return
    limits = ((resource.RLIMIT_AS, memory_mb * 2**20), (resource.RLIMIT_CPU, cpu_s), (resource.RLIMIT_CORE, 0))
    for which, value in limits:
        try:
            _soft, hard = resource.getrlimit(which)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(which, (value, hard))
        except (ValueError, OSError):
            pass  # e.g. RLIMIT_AS is not enforced on macOS


def _run_test_hook(hook: str, memory_mb: int) -> None:
    if hook.startswith("sleep:"):
        import time

        time.sleep(float(hook.split(":", 1)[1]))
    elif hook == "oom":
        _hog = bytearray(memory_mb * 2**20)  # noqa: F841 - over the limit: MemoryError
    elif hook == "crash":
        os.abort()
    elif hook == "stdout":
        print("some library printing to stdout")


def _child(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m ingest.worker", description=__doc__.split("\n")[0])
    parser.add_argument("--source", required=True)
    parser.add_argument("--memory-mb", type=int, default=DEFAULT_MEMORY_MB)
    parser.add_argument("--cpu-s", type=int, default=65)
    parser.add_argument("--test-hook", default=None)
    args = parser.parse_args(argv)

    # The reply goes to the real stdout; anything a library prints goes to stderr.
    reply_fd = os.dup(1)
    os.dup2(2, 1)
    reply = os.fdopen(reply_fd, "w", encoding="utf-8")

    _limit(args.memory_mb, args.cpu_s)
    data = sys.stdin.buffer.read()
    from ingest.extract import extract_bytes

    try:
        _run_test_hook(args.test_hook or "", args.memory_mb)
        result = extract_bytes(data, args.source)
        message = {"ok": True, "text": result.text, "title": result.title, "kind": result.kind,
                   "meta": result.meta}
    except IngestError as exc:
        message = {"ok": False, "reason": exc.reason}
    except MemoryError:
        message = {"ok": False, "reason": f"parser ran out of memory (limit {args.memory_mb} MB); "
                                          "the file may be malformed"}
    except RecursionError:
        message = {"ok": False, "reason": "document is nested too deeply to parse"}
    except Exception as exc:
        detail = " ".join(str(exc).split())[:200]
        message = {"ok": False, "reason": f"could not parse: {exc.__class__.__name__}: {detail}"}
    try:
        json.dump(message, reply, ensure_ascii=False, default=str)
        reply.flush()
    except MemoryError:
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
