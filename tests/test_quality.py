"""The code's own rules, checked with every test run: layer boundaries
(import-linter), lint (ruff) and types (mypy)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_layer_contracts_hold() -> None:
    """Server without Qt, domain without Qt or network, client layers in order."""
    out = run(str(BIN / "lint-imports"))
    assert out.returncode == 0, out.stdout + out.stderr


def test_ruff_is_clean() -> None:
    out = run(str(BIN / "ruff"), "check", "conference_gui", "tests", "bench")
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.timeout(300)
def test_mypy_is_clean() -> None:
    out = run(sys.executable, "-m", "mypy")
    assert out.returncode == 0, out.stdout + out.stderr


def test_only_the_device_layer_imports_qt_multimedia() -> None:
    """Qt Multimedia logs at import; conference_gui.services.media sets its log rules
    first, so nothing else may import it (import-linter cannot name a Qt module)."""
    offenders = []
    for path in (ROOT / "conference_gui").rglob("*.py"):
        if "services/media" in path.as_posix():
            continue
        text = path.read_text(encoding="utf-8")
        if "QtMultimedia" in text and "import" in text.split("QtMultimedia")[0].splitlines()[-1]:
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, offenders
