"""The one Qt logging rule the media devices need, and why.

Loading Qt Multimedia (the moment ``PySide6.QtMultimedia`` is imported) probes
for optional system libraries and logs each one it cannot find as a
*warning* in the category ``qt.multimedia.symbolsresolver``; on a machine
without PipeWire that is::

    qt.multimedia.symbolsresolver: Couldn't load pipewire-0.3 library
    qt.multimedia.symbolsresolver: Couldn't resolve pipewire-0.3 symbols

Nothing is wrong: Qt then uses PulseAudio (or PipeWire's PulseAudio server)
for sound. The category only reports these optional probes (PipeWire, VA-API,
OpenSSL for streaming), so its warnings are switched off — and only its
warnings: real failures (no sound server, a device that cannot open) come in
other categories and still show, and still fail tests
(``qt_log_level_fail = WARNING``).

Because the probe runs at import, the rule must be in place before the
import; :mod:`conference_gui.services.media` applies it first thing.
``QLoggingCategory.setFilterRules`` replaces earlier rules set the same way:
anyone setting rules of their own must include :data:`MULTIMEDIA_LOG_RULES`.
``QT_LOGGING_RULES`` in the environment still wins, for debugging
(``QT_LOGGING_RULES="qt.multimedia*=true"``).
"""

from __future__ import annotations

from PySide6.QtCore import QLoggingCategory

MULTIMEDIA_LOG_RULES = ("qt.multimedia.symbolsresolver.warning=false",)


def quiet_multimedia_probes() -> None:
    QLoggingCategory.setFilterRules("\n".join(MULTIMEDIA_LOG_RULES))
