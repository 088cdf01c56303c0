"""Numbers shown to people."""

from __future__ import annotations


def format_size(size: int) -> str:
    """Human file size: 0 B, 999 B, 1.0 KB … (decimal units, like file managers)."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")
