"""The layers' imports point one way (docs/architecture.md):

    core, text  <-  vectorstore  <-  ingest  <-  retrieval  <-  answering  <-  partybot, bot.py, scripts/

A module imports its own layer and those below it, never one above; core imports nothing of the
project (text may import core); no layer below the front ends imports Telegram. Every import
counts, including those inside functions (they are how an upward import hides).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {"core": 0, "text": 0, "vectorstore": 1, "ingest": 2, "retrieval": 3, "answering": 4,
          "partybot": 5, "bot": 5, "scripts": 5}
# Same layer, still not allowed: core is the very bottom.
FORBIDDEN = {("core", "text")}
NO_TELEGRAM = {"core", "text", "vectorstore", "ingest", "retrieval", "answering"}


def _package_of(path: Path, root: Path) -> list[str]:
    """The dotted package ``path`` belongs to, as parts (["retrieval"] for retrieval/hybrid.py)."""
    return list(path.relative_to(root).parent.parts)


def imports_of(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``path``: ``import x``, ``from x import
    y``, relative imports resolved, and ``importlib.import_module("x")`` with a literal name."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _package_of(path, root)
                base = base[:len(base) - (node.level - 1)] if node.level > 1 else base
                if node.module:
                    out.append((node.lineno, ".".join([*base, node.module])))
                else:
                    out += [(node.lineno, ".".join([*base, alias.name])) for alias in node.names]
            elif node.module:
                out.append((node.lineno, node.module))
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and (getattr(node.func, "attr", None) == "import_module"
                   or getattr(node.func, "id", None) in ("import_module", "__import__"))):
            out.append((node.lineno, node.args[0].value))
    return sorted(out)


def layer_of(path: Path, root: Path) -> str:
    rel = path.relative_to(root)
    return "bot" if rel.parts == ("bot.py",) else rel.parts[0]


def project_files(root: Path) -> list[Path]:
    files = [p for name in LAYERS if (root / name).is_dir() for p in sorted((root / name).rglob("*.py"))]
    return files + ([root / "bot.py"] if (root / "bot.py").exists() else [])


def violations(root: Path) -> list[str]:
    """One line per offending import: "file:line imports X (layer a -> layer b)"."""
    bad = []
    for path in project_files(root):
        here = layer_of(path, root)
        rel = path.relative_to(root)
        for line, module in imports_of(path, root):
            top = module.split(".")[0]
            if top == "telegram" and here in NO_TELEGRAM:
                bad.append(f"{rel}:{line} imports {module} (layer {LAYERS[here]} {here} -> the Telegram front end)")
            elif top in LAYERS and (LAYERS[top] > LAYERS[here] or (here, top) in FORBIDDEN):
                bad.append(f"{rel}:{line} imports {module} (layer {LAYERS[here]} {here} -> layer {LAYERS[top]} {top})")
    return bad


def test_imports_point_down_the_layers():
    files = project_files(ROOT)
    assert len(files) > 40 and {layer_of(p, ROOT) for p in files} >= {"core", "text", "retrieval", "partybot", "bot"}
    bad = violations(ROOT)
    for line in bad:
        print(line)
    assert not bad, "upward imports:\n" + "\n".join(bad)


def test_the_check_catches_an_upward_import_even_inside_a_function(tmp_path):
    for d in ("core", "text", "ingest", "retrieval", "partybot"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "text" / "a.py").write_text("import re\nfrom core.errors import X\nfrom . import b\n", encoding="utf-8")
    (tmp_path / "ingest" / "x.py").write_text("def f():\n    from retrieval.answer import g\n", encoding="utf-8")
    (tmp_path / "core" / "e.py").write_text("from text import a\n", encoding="utf-8")
    (tmp_path / "retrieval" / "t.py").write_text("import importlib\nimportlib.import_module('telegram.ext')\n",
                                                 encoding="utf-8")
    (tmp_path / "partybot" / "ok.py").write_text("import telegram\nfrom retrieval import t\n", encoding="utf-8")
    assert violations(tmp_path) == [
        "core/e.py:1 imports text (layer 0 core -> layer 0 text)",
        "ingest/x.py:2 imports retrieval.answer (layer 2 ingest -> layer 3 retrieval)",
        "retrieval/t.py:2 imports telegram.ext (layer 3 retrieval -> the Telegram front end)",
    ]
