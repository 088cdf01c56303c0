"""The client: pins the certificate an invite link names, verifies a CA's, refuses anything
else before sending a byte — REST and the socket alike, and the window says so."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QLabel, QListView

from conference_gui.domain.invite import InviteLink
from conference_gui.domain.trust import ServerTrust
from conference_gui.server import ServerConfig, ServerThread
from conference_gui.server.tls import SELF_SIGNED_FILE, TLS_DIR, self_signed_certificate
from conference_gui.services.http_client import ApiClient, ApiError
from conference_gui.services.socket_service import SocketService
from conference_gui.ui.left_screen import LeftBecause, LeftScreen
from tests.conftest import Loop, close_windows, until

from .support import CertificateAuthority, TlsTrap

MISMATCH_WORDS = "not the one in the invite link"


@pytest.fixture
def open_window(aloop: Loop, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Meeting windows made by ``create_window`` (as the app does); shut down after."""
    from conference_gui.app import create_window
    from conference_gui.features import default_features
    from conference_gui.services.settings import AppSettings

    opened: list[Any] = []

    def make(url: str, session_id: str, user_id: str, token: str, **kwargs: Any) -> Any:
        features = [f for f in default_features() if f.__name__ != "CallFeature"]
        kwargs.setdefault("title", "TLS")
        win = create_window(url, session_id, user_id, token,
                            settings=AppSettings.at(tmp_path / f"settings-{len(opened)}.ini"),
                            download_dir=tmp_path / "downloads", features=features, **kwargs)
        opened.append(win)
        return win

    yield make
    close_windows(aloop, opened)


def _status(win: Any) -> str:
    label = win.findChild(QLabel, "connectionStatus")
    assert label is not None
    return str(label.text())


def _listed(win: Any) -> list[str]:
    model = win.findChild(QListView, "resourceList").model()
    return [model.index(r, 0).data() for r in range(model.rowCount())]


def _gui(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conference_gui", *args], capture_output=True, text=True,
        timeout=timeout, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )


@pytest.fixture
def private_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Child processes keep their settings, logs and data out of the real home."""
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(var, str(tmp_path / "home" / var.lower()))


def test_a_wrong_certificate_is_refused_before_anything_is_sent(
    lan_server: ServerThread, lan_address: str, aloop: Loop, open_window: Any, tmp_path: Path,
    private_home: None,
) -> None:
    """Someone in the middle answers with a certificate of their own: the invite link's
    pin refuses it. Not the token, not the invite code, not a byte of a file reaches
    them; the person is told why, in the join and in the window's status."""
    other = self_signed_certificate(tmp_path / "mallory", lan_address)
    trap = TlsTrap(lan_address, other.cert_file)
    pin = ServerTrust(fingerprint=lan_server.fingerprint)  # the real server's certificate
    link = InviteLink(trap.url, "0123456789abcdef01234567", "secret-invite-code",
                      fingerprint=lan_server.fingerprint)
    assert InviteLink.parse(str(link)).trust == pin
    executor = ThreadPoolExecutor(2)
    try:
        async def story() -> None:
            api = ApiClient(trap.url, "secret-token", executor, trust=link.trust)
            with pytest.raises(ApiError) as refused:
                await api.join_session(link.session_id, "Bob", link.code)
            assert refused.value.code == "certificate_mismatch"
            assert MISMATCH_WORDS in refused.value.message
            assert other.pinned_fingerprint is not None
            assert other.pinned_fingerprint[:2].upper() in refused.value.message  # what it saw

            socket = SocketService(trap.url, link.session_id, "u1", "secret-token", trust=pin)
            socket.start()
            await until(lambda: socket.state.value == "error", what="the socket refused")
            assert MISMATCH_WORDS in socket.detail
            await socket.stop()

            # A window given the link: the refusal is final (no retrying), the window
            # leaves the meeting and the screen it leaves to says why.
            win = open_window(trap.url, link.session_id, "u1", "secret-token", invite=link)
            await until(lambda: win.left_because is not None, what="the window refused")
            assert win.left_because == LeftBecause.DISCONNECTED
            assert MISMATCH_WORDS in win.left_detail
            screen = LeftScreen("TLS", win.left_because, win.left_detail)
            shown = screen.findChild(QLabel, "leftDetail")
            assert shown is not None and MISMATCH_WORDS in shown.text()
            screen.deleteLater()

        aloop.run(story())
        # The app joining from the link says it too (a message box; here stderr).
        out = _gui("--join", str(link), "--self-check", "--name", "Bob")
        assert out.returncode == 1
        assert "Could not open the meeting" in out.stderr and MISMATCH_WORDS in out.stderr
        assert trap.handshakes >= 4  # they did reach it ...
        assert trap.received == b""  # ... and were sent nothing after the handshake
    finally:
        executor.shutdown()
        trap.close()


def test_a_certificate_from_a_ca_is_verified(
    lan_address: str, aloop: Loop, open_window: Any, tmp_path: Path
) -> None:
    """``--tls-cert``/``--tls-key``: the client checks chain and name against its CAs,
    here the test's own CA given as ``--ca-file`` (``ServerTrust.ca_file``)."""
    ca = CertificateAuthority(tmp_path / "ca")
    cert, key = ca.issue("server", lan_address)
    wrong_cert, wrong_key = ca.issue("elsewhere", "10.231.77.99")  # another address
    srv = ServerThread(ServerConfig(host=lan_address, port=0, data_dir=tmp_path / "data",
                                    tls_cert=cert, tls_key=key))
    url = srv.start()
    wrong_name = TlsTrap(lan_address, wrong_cert, wrong_key)
    executor = ThreadPoolExecutor(2)
    trusted = ServerTrust(ca_file=ca.cert_file)
    try:
        async def story() -> None:
            creds = await ApiClient(url, None, executor, trust=trusted).create_session("T", "Ann")
            win = open_window(url, creds.session_id, creds.user_id, creds.token, trust=trusted)
            await until(lambda: win.socket.is_ready, what="the window connected")
            model = win.features["resources"].model
            await until(lambda: model.ledger.revision == 0, what="the list loaded over REST")
            assert srv.connection_count(creds.session_id) == 1

            with pytest.raises(ApiError) as untrusted:  # no CA of ours: not trusted
                await ApiClient(url, None, executor).create_session("T", "Eve")
            assert untrusted.value.code == "certificate_untrusted"
            assert "not trusted" in untrusted.value.message
            with pytest.raises(ApiError) as misnamed:  # our CA, but not this address
                await ApiClient(wrong_name.url, None, executor,
                                trust=trusted).create_session("T", "Eve")
            assert misnamed.value.code == "certificate_untrusted"
            assert "IP address mismatch" in misnamed.value.message

            lost = open_window(wrong_name.url, creds.session_id, creds.user_id, creds.token,
                               trust=trusted)
            await until(lambda: lost.left_because is not None, what="the window refused")
            assert "not trusted" in lost.left_detail

        aloop.run(story())
        assert wrong_name.received == b""
    finally:
        executor.shutdown()
        wrong_name.close()
        srv.stop()


def test_the_pinned_self_signed_certificate_end_to_end_with_a_real_window(
    lan_server: ServerThread, aloop: Loop, open_window: Any, tmp_path: Path,
    private_home: None,
) -> None:
    """A meeting on a server beyond loopback: the invite link carries the fingerprint; a
    window joins from it, its socket connects and a file uploads. A second process
    joins from the same link."""
    executor = ThreadPoolExecutor(2)
    assert lan_server.url.startswith("https://")
    pin = ServerTrust(fingerprint=lan_server.fingerprint)
    try:
        async def story() -> str:
            host = await ApiClient(lan_server.url, None, executor, trust=pin).create_session(
                "Review", "Ann")
            assert host.invite is not None
            link = InviteLink.parse(str(InviteLink(lan_server.url, host.session_id, host.invite,
                                                   fingerprint=lan_server.fingerprint)))
            bob = await ApiClient(link.server_url, None, executor,
                                  trust=link.trust).join_session(link.session_id, "Bob", link.code)
            win = open_window(bob.server_url, bob.session_id, bob.user_id, bob.token,
                              title=bob.session_title, invite=link)
            await until(lambda: win.socket.is_ready, what="the window connected")
            assert lan_server.connection_count(host.session_id) == 1
            report = tmp_path / "report.txt"
            report.write_text("over TLS\n" * 100)
            win.features["resources"].dock.upload([report])
            await until(lambda: _listed(win) == ["report.txt"], what="the upload listed")
            listing = await ApiClient(lan_server.url, host.token, executor,
                                      trust=pin).list_resources(host.session_id)
            assert [r.name for r in listing.resources] == ["report.txt"]
            return str(link)

        link = aloop.run(story())
        joined = _gui("--join", link, "--self-check", "--name", "Cat")
        assert joined.returncode == 0, joined.stderr
        assert f"self-check ok: connected to {lan_server.url}" in joined.stdout
    finally:
        executor.shutdown()


def test_the_embedded_server_on_every_interface_speaks_https_and_its_invite_names_it(
    lan_address: str, tmp_path: Path, private_home: None
) -> None:
    """``conference-gui --host 0.0.0.0`` (here inside the test's own network): the
    embedded server makes its certificate, the window pins it over loopback, and the
    invite link for other machines carries its fingerprint. Loopback stays HTTP."""
    data = tmp_path / "embedded"
    out = _gui("--self-check", "--host", "0.0.0.0", "--data-dir", str(data), "--name", "Ann")
    assert out.returncode == 0, out.stderr
    assert "self-check ok: connected to https://127.0.0.1:" in out.stdout
    cert = self_signed_certificate(data, "0.0.0.0")  # the one it made (read, not made again)
    assert (data / TLS_DIR / SELF_SIGNED_FILE).is_file()
    invite = next(line for line in out.stdout.splitlines() if line.startswith("invite: "))
    link = InviteLink.parse(invite.removeprefix("invite: "))
    assert link.server_url.startswith("https://") and "127.0.0.1" not in link.server_url
    assert link.fingerprint == cert.pinned_fingerprint

    plain = _gui("--self-check", "--data-dir", str(tmp_path / "loop"), "--name", "Ann")
    assert plain.returncode == 0, plain.stderr
    assert "self-check ok: connected to http://127.0.0.1:" in plain.stdout
    plain_invite = next(line for line in plain.stdout.splitlines() if line.startswith("invite: "))
    assert "cert=" not in plain_invite and InviteLink.parse(
        plain_invite.removeprefix("invite: ")).fingerprint is None
