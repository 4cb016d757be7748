"""Reading the shared conformance corpus (never copied into this repository)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def load_corpus(shared_dir: Path, bucket: str) -> list[tuple[str, Any]]:
    """(relative path, parsed JSON) of every corpus file in ``bucket``, sorted by path."""
    root = shared_dir / "conformance" / bucket
    return [
        (str(path.relative_to(root)), json.loads(path.read_text()))
        for path in sorted(root.rglob("*.json"))
    ]
