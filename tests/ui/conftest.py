"""Widget tests run offscreen: no display needed, same pixels everywhere."""

from __future__ import annotations

import os

# Before any QApplication exists (pytest-qt creates it lazily in the qapp fixture).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
