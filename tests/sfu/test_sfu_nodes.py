"""Runs ``nodes_case.py`` (two server nodes, Redis, PostgreSQL, two Janus) in a pytest
process of its own, as tests/multinode does with its cases."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.multinode.conftest import require_services

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


@pytest.mark.slow
@pytest.mark.timeout(200)
def test_sfu_across_nodes() -> None:
    require_services()
    out = subprocess.run(
        [sys.executable, "-m", "pytest", str(HERE / "nodes_case.py"), "-q", "-p",
         "no:cacheprovider", "-rfE", "-s"],
        cwd=ROOT, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True, text=True, timeout=180,
    )
    report = f"{out.stdout[-8000:]}\n{out.stderr[-3000:]}"
    assert out.returncode == 0, report
    summary = out.stdout.strip().splitlines()[-1]
    assert re.search(r"\d+ passed", summary) and "skipped" not in summary, report
