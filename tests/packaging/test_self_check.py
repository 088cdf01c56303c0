"""The call part of ``--self-check`` (conference_gui/self_check.py), without a bundle.

The bundle test runs the same check inside the built bundle; this one runs it
from the checkout, in a few seconds, so a broken self-check shows before the
slow build.
"""

from __future__ import annotations

import asyncio

import pytest

from conference_gui import self_check
from tests.conftest import require_private_network


@pytest.fixture(autouse=True)
def private_network() -> None:
    require_private_network()  # the call's media go over loopback only, in here


def test_two_engines_call_each_other_over_loopback() -> None:
    result = asyncio.run(self_check.call_check(frames=30, timeout=20))
    assert result.ok, result.problems
    assert result.peers == 2
    assert result.frames >= 30
    assert result.level >= self_check.HEARD
    assert result.describe().startswith("call: 2 peers, ")


def test_a_call_that_cannot_happen_fails_with_a_reason() -> None:
    result = asyncio.run(self_check.call_check(frames=10**6, timeout=1.5))
    assert not result.ok
    assert "frames decoded" in result.problems[0]


# The back end looks for PipeWire (screen capture) and warns where there is none.
@pytest.mark.qt_log_ignore("pipewire")
def test_qt_multimedia_has_its_ffmpeg_back_end() -> None:
    loaded, failures = self_check.media_backends()
    assert not failures
    assert "ffmpeg" in loaded
