"""llama.cpp's server, built from source for this machine's CPU, and run as a child process.

Why: the prebuilt ``xllamacpp`` wheel is compiled for AVX2 only, so on a CPU with AVX-512/VNNI
it reads a prompt at about half the speed llama.cpp reaches when built for the CPU it runs on
(measured on the 2-core target machine: 78 vs 153 prompt tokens/s, 29 vs 38 generated tokens/s;
docs/evaluation.md). Reading the prompt is most of an answer's time, so the local backend uses this
build when it is there and falls back to the in-process wheel when it is not.

Where the source comes from: the package registry (the only network there is). The
``llama-cpp-python`` source distribution carries llama.cpp under ``vendor/llama.cpp``; it is
downloaded with ``pip download --no-binary``, checked against a pinned sha256, and only the
``llama-server`` target is built (cmake + a C++ compiler, about 5 minutes on 2 cores, once).
The build is recorded with the CPU's feature flags: a ``var/`` copied to a machine with another
CPU is rebuilt rather than crashing on an unknown instruction.

A finished build is also kept in the machine's cache (``PARTYBOT_BUILD_CACHE``, default
``$XDG_CACHE_HOME/partybot`` or ``~/.cache/partybot``) under a key of the source, flags and CPU,
so a fresh clone on the same machine (CI's, a second checkout) copies it instead of building
again. ``PARTYBOT_BUILD_CACHE=`` (empty) turns the cache off.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from core.errors import ModelError
from partybot.models import sha256_file

log = logging.getLogger(__name__)

SOURCE_PROJECT = "llama-cpp-python"
SOURCE_VERSION = "0.3.36"
SOURCE_FILE = f"llama_cpp_python-{SOURCE_VERSION}.tar.gz"
SOURCE_SHA256 = "832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e"
VENDOR_DIR = f"llama_cpp_python-{SOURCE_VERSION}/vendor/llama.cpp/"
CMAKE_FLAGS = ("-DCMAKE_BUILD_TYPE=Release", "-DGGML_NATIVE=ON", "-DBUILD_SHARED_LIBS=OFF",
               "-DLLAMA_CURL=OFF", "-DLLAMA_OPENSSL=OFF", "-DLLAMA_BUILD_TESTS=OFF",
               "-DLLAMA_BUILD_EXAMPLES=OFF", "-DLLAMA_BUILD_APP=OFF", "-DLLAMA_BUILD_UI=OFF")
MARKER = "build.json"


def runtime_dir(models_dir: Path) -> Path:
    return Path(models_dir) / "llama-server"


def cpu_fingerprint() -> str:
    """The CPU's instruction-set flags (a native build runs only where they are all present)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                flags = sorted(set(line.split(":", 1)[1].split()))
                return hashlib.sha256(" ".join(flags).encode()).hexdigest()[:16]
    except OSError:
        pass
    import platform

    return hashlib.sha256(platform.machine().encode()).hexdigest()[:16]


def _expected() -> dict:
    return {"source": f"{SOURCE_PROJECT}=={SOURCE_VERSION}", "sha256": SOURCE_SHA256,
            "cmake": list(CMAKE_FLAGS), "cpu": cpu_fingerprint()}


def installed(models_dir: Path) -> Path | None:
    """The built ``llama-server`` binary when it matches this source, flags and CPU, else None."""
    return _valid_build(runtime_dir(models_dir))


def _valid_build(folder: Path) -> Path | None:
    binary = folder / "llama-server"
    try:
        recorded = json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return None
    if {k: recorded.get(k) for k in _expected()} != _expected() or not os.access(binary, os.X_OK):
        return None
    return binary


def build_cache() -> Path | None:
    """Where finished builds are kept for other checkouts on this machine (None: nowhere)."""
    value = os.environ.get("PARTYBOT_BUILD_CACHE")
    if value is not None:
        return Path(value).expanduser() if value.strip() else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "partybot"


def _cache_entry(cache: Path) -> Path:
    key = hashlib.sha256(json.dumps(_expected(), sort_keys=True).encode()).hexdigest()[:16]
    return cache / "llama-server" / key


def _from_cache(models_dir: Path, echo) -> Path | None:
    """Install the cached build of this source, flags and CPU, when there is one."""
    cache = build_cache()
    entry = _cache_entry(cache) if cache else None
    if entry is None or _valid_build(entry) is None:
        return None
    staging = Path(models_dir) / ".staging" / "llama-server-cached"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(entry, staging)
    _swap_in(staging, runtime_dir(models_dir))
    echo(f"llama-server: the build for this CPU was taken from {entry}")
    return installed(models_dir)


def _to_cache(base: Path, echo) -> None:
    cache = build_cache()
    if cache is None:
        return
    entry = _cache_entry(cache)
    tmp = entry.with_name(entry.name + f".tmp{os.getpid()}")
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(base, tmp)
        shutil.rmtree(entry, ignore_errors=True)
        tmp.rename(entry)
    except OSError as exc:  # a cache that cannot be written costs the next checkout a build, no more
        shutil.rmtree(tmp, ignore_errors=True)
        echo(f"llama-server: not kept in the build cache {cache} ({exc})")


def _swap_in(new: Path, base: Path) -> None:
    """Put the installed folder ``new`` in place of ``base``."""
    old = base.with_name(base.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if base.exists():
        base.rename(old)
    new.rename(base)
    shutil.rmtree(old, ignore_errors=True)


def build(models_dir: Path, *, jobs: int | None = None, pip_args: list[str] | None = None,
          echo=print) -> Path:
    """Download the pinned source from the registry, build ``llama-server``, install it (once;
    from the machine's build cache when another checkout built it)."""
    found = installed(models_dir) or _from_cache(models_dir, echo)
    if found:
        return found
    missing = [tool for tool in ("cmake", "c++") if shutil.which(tool) is None]
    if missing:
        raise ModelError(f"building llama.cpp's server needs {' and '.join(missing)} (Debian: "
                         f"`apt-get install cmake g++`); without it the local model runs on the "
                         f"slower prebuilt runtime (PARTYBOT_LLM_RUNTIME=inprocess)")
    base = runtime_dir(models_dir)
    staging = Path(models_dir) / ".staging" / "llama-server"
    staging.mkdir(parents=True, exist_ok=True)
    archive = staging / SOURCE_FILE
    if not archive.is_file() or sha256_file(archive) != SOURCE_SHA256:
        archive.unlink(missing_ok=True)
        if pip_args is None:
            pip_args = os.environ.get("PARTYBOT_PIP_ARGS", "").split()
        echo(f"llama-server: downloading {SOURCE_PROJECT}=={SOURCE_VERSION} (source) from the package registry")
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary=:all:",
               "--disable-pip-version-check", "-q", "-d", str(staging), *pip_args,
               f"{SOURCE_PROJECT}=={SOURCE_VERSION}"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if not archive.is_file():
            lines = [ln for ln in (proc.stderr or "").splitlines() if ln.strip()]
            raise ModelError(f"cannot download {SOURCE_PROJECT}=={SOURCE_VERSION} from the package registry "
                             f"({lines[-1].strip() if lines else f'pip exited with {proc.returncode}'})")
        digest = sha256_file(archive)
        if digest != SOURCE_SHA256:
            archive.unlink()
            raise ModelError(f"sha256 of {SOURCE_FILE} is {digest}, expected {SOURCE_SHA256}; "
                             f"nothing was built")
    src = staging / "src"
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir()
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(VENDOR_DIR)]
        tar.extractall(src, members=members, filter="data")
    root = src / VENDOR_DIR
    out = staging / "build"
    shutil.rmtree(out, ignore_errors=True)
    jobs = jobs or os.cpu_count() or 2
    echo(f"llama-server: building for this CPU with {jobs} job(s) (about 5 minutes on 2 cores)")
    t = time.perf_counter()
    for cmd in (["cmake", "-S", str(root), "-B", str(out), *CMAKE_FLAGS],
                ["cmake", "--build", str(out), "--target", "llama-server", "-j", str(jobs)]):
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            log_file = staging / "build.log"
            log_file.write_text(proc.stdout + "\n" + proc.stderr)
            raise ModelError(f"building llama-server failed ({' '.join(cmd[:2])}); see {log_file}")
    binary = out / "bin" / "llama-server"
    if not os.access(binary, os.X_OK):
        raise ModelError(f"the build produced no {binary}")
    new = staging / "install"
    shutil.rmtree(new, ignore_errors=True)
    new.mkdir()
    shutil.copy2(binary, new / "llama-server")
    (new / MARKER).write_text(json.dumps({**_expected(), "seconds": round(time.perf_counter() - t)}, indent=1))
    _swap_in(new, base)
    shutil.rmtree(staging, ignore_errors=True)
    _to_cache(base, echo)
    echo(f"llama-server: built in {time.perf_counter() - t:.0f} s")
    return base / "llama-server"


class ServerProcess:
    """``llama-server`` as a child process on a loopback port; stopped with this process."""

    def __init__(self, binary: Path, gguf: str, *, port: int, threads: int, ctx: int, parallel: int):
        self.cmd = [str(binary), "--model", gguf, "--host", "127.0.0.1", "--port", str(port),
                    "--threads", str(threads), "--threads-batch", str(threads),
                    "--ctx-size", str(ctx * parallel), "--parallel", str(parallel), "--no-webui"]
        self.base = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout_s: float = 120.0) -> str:
        import atexit
        import threading

        import httpx

        verbose = log.isEnabledFor(logging.DEBUG)
        spawned = threading.Event()
        failure: list[BaseException] = []

        def spawn_and_wait():
            # The child is asked to die with the thread that forked it (PR_SET_PDEATHSIG), so
            # that thread lives exactly as long as the child: it waits for it.
            try:
                self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, env=_child_env(),
                                             stdout=None if verbose else subprocess.DEVNULL,
                                             stderr=None if verbose else subprocess.PIPE,
                                             preexec_fn=_die_with_parent)
            except OSError as exc:
                failure.append(exc)
                return
            finally:
                spawned.set()
            self.proc.wait()

        threading.Thread(target=spawn_and_wait, name="llama-server", daemon=True).start()
        spawned.wait()
        if failure:
            raise ModelError(f"cannot start {self.cmd[0]}: {failure[0]}")
        atexit.register(self.close)
        proc = self.proc
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                err = proc.stderr.read().decode("utf-8", "replace")[-600:] if proc.stderr else ""
                raise ModelError(f"llama-server exited with {proc.returncode}: {err.strip()}")
            try:
                if httpx.get(self.base + "/health", timeout=2).status_code == 200:
                    if proc.stderr:
                        _drain(proc.stderr)
                    return self.base + "/v1"
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.close()
        raise ModelError(f"llama-server did not become ready within {timeout_s:.0f} s")

    def close(self) -> None:
        proc, self.proc = self.proc, None
        if proc and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _child_env() -> dict:
    """The server's environment, without the OpenMP wait policy partybot sets for torch: a
    passive wait costs llama.cpp's threads a wake-up at every step of generation."""
    env = dict(os.environ)
    if env.get("OMP_WAIT_POLICY") == "PASSIVE" and env.get("PARTYBOT_SET_OMP_WAIT_POLICY") == "1":
        env.pop("OMP_WAIT_POLICY")
    return env


def _die_with_parent() -> None:
    """Linux: the server gets SIGTERM when the process that started it dies, however it dies."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:  # not Linux: close() and atexit still stop it
        pass


def _drain(stream) -> None:
    """Read the server's log in the background so that a full pipe never blocks it."""
    import threading

    def run():
        for _ in iter(lambda: stream.read(65536), b""):
            pass

    threading.Thread(target=run, name="llama-server-log", daemon=True).start()
