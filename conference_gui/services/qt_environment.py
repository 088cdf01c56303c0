"""How Qt is set up for a meeting window, before the QApplication exists.

One setting, and why: **Qt's raster painter does not farm work out to threads**
(``QT_NO_GUI_THREADPOOL``). By default Qt 6 splits any fill or image draw of
more than ~96 lines into pieces for a pool of threads and waits for them: a
smooth scale of your camera picture for the self-view, the fake camera's
gradient. That makes one paint finish sooner on an idle machine, but during a
call the cores are busy with codecs, and each split costs thread wake-ups and
context switches for every picture (3 for the self-view, 9 for the fake
camera's drawing). Measured in one process: the self-view paint 0.64 → 0.52 ms
CPU, the fake camera 1.67 → 1.31 ms, and no context switch instead of 3 and 9;
a whole call: ``bench/bench_call_latency.py`` (docs/BENCHMARKS.md).

Qt reads the variable once, when it first needs the pool, so it must be set
before anything paints. Qt only asks whether it is set (any value, even
``0``, turns the pool off), so Qt's default is had only in a process that
never calls :func:`prepare_qt_environment` (the bench's ``--qt-pool`` A/B).
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

#: Variable → value the app sets unless the environment already has the variable.
QT_ENVIRONMENT = {"QT_NO_GUI_THREADPOOL": "1"}


def prepare_qt_environment(environ: MutableMapping[str, str] | None = None) -> None:
    """Set :data:`QT_ENVIRONMENT` (what is already set is left as it is)."""
    env = os.environ if environ is None else environ
    for name, value in QT_ENVIRONMENT.items():
        env.setdefault(name, value)
