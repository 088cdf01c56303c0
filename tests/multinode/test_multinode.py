"""Runs the multi-node cases (``case_*.py``), each file in a pytest process of its own.

Why not in this process: with the cases here - psycopg-binary's libpq loaded,
real windows over nodes that are killed - a later, unrelated test of
tests/reliability crashed in Qt's event processing in about 2 of 3 runs, and
never without them (0 of 4). The cause is not found yet (docs/SCALING.md);
a child process per file keeps the main run sound and the cases unchanged.
Each child starts its own Redis and PostgreSQL; run one file directly with
``pytest tests/multinode/case_two_nodes.py``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import require_services

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CASE_FILES = sorted(p.name for p in HERE.glob("case_*.py"))


def test_every_case_file_is_run() -> None:
    assert len(CASE_FILES) == 5, CASE_FILES


@pytest.mark.parametrize("case_file", CASE_FILES)
def test_cases(case_file: str) -> None:
    require_services()
    out = subprocess.run(
        [sys.executable, "-m", "pytest", str(HERE / case_file), "-q", "-p", "no:cacheprovider",
         "-rfE"],
        cwd=ROOT, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True, text=True, timeout=115,
    )
    report = f"{out.stdout[-8000:]}\n{out.stderr[-3000:]}"
    assert out.returncode == 0, report
    summary = out.stdout.strip().splitlines()[-1]
    assert re.search(r"\d+ passed", summary) and "skipped" not in summary, report
