"""llama.cpp's server built for this CPU: when a build counts as installed, how a failed build
or download is reported, and the child process's life (started, ready, stopped) with a
stand-in binary. The real build is exercised by `make models` and the smoke test."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from partybot import llamaserver
from core.errors import ModelError

FAKE_SERVER = textwrap.dedent("""\
    #!{python}
    import http.server, sys
    port = int(sys.argv[sys.argv.index("--port") + 1])
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/health" else 404)
            self.end_headers()
            self.wfile.write(b"{{}}")
        def log_message(self, *a):
            pass
    http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
""")


def _install(models_dir, **override):
    base = llamaserver.runtime_dir(models_dir)
    base.mkdir(parents=True)
    binary = base / "llama-server"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    (base / llamaserver.MARKER).write_text(json.dumps({**llamaserver._expected(), **override}))
    return binary


def test_a_build_counts_only_for_this_source_flags_and_cpu(tmp_path):
    assert llamaserver.installed(tmp_path) is None
    binary = _install(tmp_path)
    assert llamaserver.installed(tmp_path) == binary
    (binary.parent / llamaserver.MARKER).write_text(json.dumps({**llamaserver._expected(), "cpu": "another"}))
    assert llamaserver.installed(tmp_path) is None  # copied from a machine with another CPU: rebuild


def test_build_without_a_compiler_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(llamaserver.shutil, "which", lambda tool: None)
    with pytest.raises(ModelError, match="apt-get install cmake g\\+\\+"):
        llamaserver.build(tmp_path, echo=lambda m: None)
    assert llamaserver.installed(tmp_path) is None


def test_a_source_archive_with_the_wrong_hash_is_refused(tmp_path, monkeypatch):
    def fake_pip(cmd, **kw):
        dest = cmd[cmd.index("-d") + 1]
        with open(os.path.join(dest, llamaserver.SOURCE_FILE), "wb") as f:
            f.write(b"not the pinned source")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(llamaserver.subprocess, "run", fake_pip)
    monkeypatch.setattr(llamaserver.shutil, "which", lambda tool: "/usr/bin/" + tool)
    with pytest.raises(ModelError, match="sha256 .* expected"):
        llamaserver.build(tmp_path, echo=lambda m: None)
    assert llamaserver.installed(tmp_path) is None
    assert not list((tmp_path / ".staging" / "llama-server").glob("*.tar.gz"))  # not kept


def test_the_server_process_is_started_awaited_and_stopped(tmp_path):
    import httpx

    from conftest import free_port

    fake = tmp_path / "llama-server"
    fake.write_text(FAKE_SERVER.format(python=sys.executable))
    fake.chmod(0o755)
    server = llamaserver.ServerProcess(fake, "model.gguf", port=free_port(), threads=2, ctx=512, parallel=1)
    base = server.start(timeout_s=30)
    assert base.endswith("/v1") and httpx.get(server.base + "/health").status_code == 200
    assert "--model" in server.cmd and "model.gguf" in server.cmd
    proc = server.proc
    server.close()
    assert proc.poll() is not None and server.proc is None


def test_a_server_that_exits_at_once_reports_why(tmp_path):
    from conftest import free_port

    fake = tmp_path / "llama-server"
    fake.write_text("#!/bin/sh\necho 'error: unknown model format' >&2\nexit 3\n")
    fake.chmod(0o755)
    server = llamaserver.ServerProcess(fake, "model.gguf", port=free_port(), threads=2, ctx=512, parallel=1)
    with pytest.raises(ModelError, match="exited with 3: error: unknown model format"):
        server.start(timeout_s=30)


def test_the_runtime_setting_picks_the_build(tmp_path, settings):
    from partybot.backends import native_server

    settings.models_dir = tmp_path
    settings.llm_runtime = "native"
    with pytest.raises(ModelError, match="models fetch"):
        native_server(settings)
    settings.llm_runtime = "auto"
    assert native_server(settings) is None  # not built: the prebuilt runtime, with a warning
    binary = _install(settings.models_path)
    assert native_server(settings) == str(binary)
    settings.llm_runtime = "inprocess"
    assert native_server(settings) is None


def test_a_build_is_kept_in_the_machine_cache_and_a_fresh_checkout_takes_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PARTYBOT_BUILD_CACHE", str(tmp_path / "cache"))
    first = tmp_path / "first" / "models"
    _install(first)
    llamaserver._to_cache(llamaserver.runtime_dir(first), echo=lambda m: None)
    said = []
    fresh = tmp_path / "fresh" / "models"
    got = llamaserver.build(fresh, echo=said.append)  # no compiler, no download: the cached build
    assert got == llamaserver.installed(fresh) == llamaserver.runtime_dir(fresh) / "llama-server"
    assert "taken from" in said[0]
    # a cached build for another CPU is not taken (it would crash on an unknown instruction)
    other = tmp_path / "other" / "models"
    entry = llamaserver._cache_entry(tmp_path / "cache")
    marker = json.loads((entry / llamaserver.MARKER).read_text())
    (entry / llamaserver.MARKER).write_text(json.dumps({**marker, "cpu": "another"}))
    monkeypatch.setattr(llamaserver.shutil, "which", lambda tool: None)
    with pytest.raises(ModelError, match="needs cmake"):
        llamaserver.build(other, echo=said.append)
    monkeypatch.setenv("PARTYBOT_BUILD_CACHE", "")
    assert llamaserver.build_cache() is None  # empty: no cache
