"""Regression guard for PySide6 6.12.0 on CPython 3.11.

That release lowers ``None``'s reference count by one on every Qt call that
returns nothing; after a few thousand calls the interpreter aborts with
``Fatal Python error: none_dealloc``. pyproject.toml excludes it; this test
fails loudly if a broken build ever comes back.
"""

from __future__ import annotations

import sys
from typing import Any

import PySide6
from PySide6.QtWidgets import QLabel

CALLS = 100_000


def test_pyside_release_is_not_the_excluded_one() -> None:
    assert PySide6.__version__ != "6.12.0"


def test_void_qt_calls_do_not_drift_none_refcount(qtbot: Any) -> None:
    label = QLabel()
    qtbot.addWidget(label)
    set_text, set_indent = label.setText, label.setIndent  # both return None (void in C++)
    before = sys.getrefcount(None)
    for i in range(CALLS // 2):
        set_text("x")
        set_indent(i & 7)
    drift = sys.getrefcount(None) - before
    # Unrelated code may hold a handful of extra references; the bug loses one per call.
    assert abs(drift) < 100, f"None refcount drifted by {drift} over {CALLS} void Qt calls"
