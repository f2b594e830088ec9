import os
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

# No test may reach a model hub.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"

REPO = Path(__file__).resolve().parent.parent
# Where `make models` put the real models (read before the env cleaner below runs).
REAL_MODELS_DIR = Path(os.environ.get("PARTYBOT_MODELS_DIR")
                       or Path(os.environ.get("PARTYBOT_DATA_DIR", REPO / "var")) / "models")
SAMPLES = REPO / "data" / "samples"
SHARED_EVAL = REPO.parent / "shared" / "eval" / "dev.jsonl"


def free_port() -> int:
    """A TCP port free on loopback now (for servers the tests start)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(app, log_level: str = "warning") -> Iterator[int]:
    """A real uvicorn server for ``app`` on a free loopback port, in a thread; yields the port."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level=log_level))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


def clear_env(monkeypatch) -> None:
    """Settings come from the test, never from the developer's shell or .env."""
    for key in list(os.environ):
        if key.startswith(("PARTYBOT_", "LLM_", "TELEGRAM_", "LOG_")) or key in (
                "CHROMA_HOST", "CHROMA_PORT", "ADMIN_IDS", "DATABASE_URL"):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PARTYBOT_BUILD_CACHE", "")  # never the machine's cache of llama-server builds
    monkeypatch.chdir(REPO)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    clear_env(monkeypatch)


@pytest.fixture(scope="session")
def samples_data_dir(tmp_path_factory) -> Path:
    """The sample corpus ingested once per test run (hash embedder) into a data directory no test
    writes to: ``samples_copy`` gives each test a copy of its own, instead of ingesting again."""
    from partybot.cli_docs import ingest_items
    from partybot.compose import build
    from partybot.settings import Settings

    data = tmp_path_factory.mktemp("samples-index") / "data"
    with pytest.MonkeyPatch.context() as mp:
        clear_env(mp)
        settings = Settings(data_dir=data, embedder="hash", _env_file=None)
        app = build(settings)
        try:
            ingest_items(["data/samples"], settings, app, quiet=True)  # sources as given, from the repo root
        finally:
            app.close()
    return data


@pytest.fixture
def samples_copy(samples_data_dir, settings):
    """``settings``, whose data directory now holds the ingested samples (a copy)."""
    import shutil

    shutil.copytree(samples_data_dir, settings.data_dir)
    return settings


@pytest.fixture
def settings(tmp_path):
    from partybot.settings import Settings

    return Settings(data_dir=tmp_path / "data", embedder="hash", _env_file=None)


@pytest.fixture
def services(settings):
    """The composed services of a fresh data directory (``partybot.compose.App``)."""
    from partybot.compose import build

    svc = build(settings)
    yield svc
    svc.close()


# The files that take longest go first, so that with several workers (make test: pytest-xdist,
# a file per worker) none of them starts last and runs alone while the other cores are idle.
_LONGEST_FIRST = ("test_smoke_real_model.py", "test_data_dir_safety.py")


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: 0 if item.path.name in _LONGEST_FIRST else 1)  # stable: files stay whole
