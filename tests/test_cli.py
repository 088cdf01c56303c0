"""The command line, as a second process would use it."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from conference_gui import __version__
from conference_gui.domain.invite import InviteError, InviteLink
from tests.conftest import Meeting


@pytest.fixture(autouse=True)
def private_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Child processes keep their settings, logs and data out of the real home."""
    home = tmp_path_factory.mktemp("home")
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(var, str(home / var.lower()))


def gui(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conference_gui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )


def test_version_and_help() -> None:
    assert gui("--version").stdout.strip() == f"conference-gui {__version__}"
    out = gui("--help").stdout
    assert "--join" in out and "--server" in out and "--self-check" in out


def test_invite_link_round_trip_and_bad_links() -> None:
    link = InviteLink("http://127.0.0.1:8765", "abc 1", "c0de")
    assert InviteLink.parse(str(link)) == link
    for bad in (
        "hello",
        "ftp://x/join/a?invite=b",
        "http://h:1/join/?invite=b",
        "http://h:1/join/s",
    ):
        with pytest.raises(InviteError):
            InviteLink.parse(bad)


def test_bad_link_is_refused_with_a_clear_message() -> None:
    out = gui("--join", "not a link")
    assert out.returncode == 2
    assert "is not an invite link" in out.stderr


def test_second_process_joins_from_the_invite_link(server: Any, meeting: Meeting) -> None:
    link = str(InviteLink(meeting.url, meeting.session_id, meeting.invite))
    out = gui("--join", link, "--name", "Bob", "--self-check")
    assert out.returncode == 0, out.stderr
    assert f"self-check ok: connected to {meeting.url}" in out.stdout


def test_wrong_invite_code_says_so(server: Any, meeting: Meeting) -> None:
    link = str(InviteLink(meeting.url, meeting.session_id, "wrong-code"))
    out = gui("--join", link, "--self-check")
    assert out.returncode == 1
    assert "Could not open the meeting" in out.stderr or "invite" in out.stderr.lower()


def test_seed_parameters_with_a_token_issued_elsewhere(server: Any, meeting: Meeting) -> None:
    bob = meeting.join("Bob")
    out = gui(
        "--server",
        meeting.url,
        "--session",
        meeting.session_id,
        "--user",
        bob.user_id,
        "--token",
        bob.token,
        "--self-check",
    )
    assert out.returncode == 0, out.stderr


def test_no_arguments_starts_an_embedded_server_and_a_meeting(tmp_path: Any) -> None:
    out = gui("--self-check", "--data-dir", str(tmp_path / "data"))
    assert out.returncode == 0, out.stderr
    assert "self-check ok: connected to http://127.0.0.1:" in out.stdout


def test_invite_for_other_machines_names_this_host_when_serving_every_interface() -> None:
    import socket

    from conference_gui.app import _public_url

    host = socket.gethostname()
    assert _public_url("http://127.0.0.1:4000", "0.0.0.0") == f"http://{host}:4000"
    assert _public_url("http://127.0.0.1:4000", "127.0.0.1") == "http://127.0.0.1:4000"
