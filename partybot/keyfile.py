"""Secret keys kept as files beside the data they protect (made once, mode 600)."""

from __future__ import annotations

import secrets
from pathlib import Path


def load_or_create_key(path: Path) -> bytes:
    """The 32-byte key in ``path``; made on first use, written atomically, readable by the owner only."""
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(key.hex())
    tmp.chmod(0o600)
    tmp.replace(path)
    return key
