"""``conference-gui``: start (or join) a meeting and open its window.

With no arguments an embedded server is started on loopback, a meeting is
created and its window opens with an invite link another ``conference-gui
--join LINK`` can use. qasync runs asyncio on the Qt event loop, so network
work is awaited without blocking the GUI thread.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import platformdirs
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from conference_gui import __version__
from conference_gui.domain.invite import InviteError, InviteLink
from conference_gui.domain.trust import ServerTrust, parse_fingerprint
from conference_gui.features import FeatureFactory, default_features, install_features
from conference_gui.platform_check import check_display
from conference_gui.services.http_client import ApiClient, ApiError, Credentials
from conference_gui.services.qt_environment import prepare_qt_environment
from conference_gui.services.settings import AppSettings
from conference_gui.session import MediaOptions, MeetingInfo, MeetingSession
from conference_gui.ui.icons import icon
from conference_gui.ui.left_screen import LeftBecause, LeftScreen
from conference_gui.ui.main_window import MainWindow

if TYPE_CHECKING:
    from conference_gui.services.embedded_server import EmbeddedServer

log = logging.getLogger("conference_gui")


FAKE_MEDIA_ENV = "CONFERENCE_GUI_FAKE_MEDIA"


def fake_media_from_env() -> bool:
    """``CONFERENCE_GUI_FAKE_MEDIA=1`` asks for the synthetic camera and tone (SPEC §3)."""
    return os.environ.get(FAKE_MEDIA_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def create_window(
    server_url: str,
    session_id: str,
    user_id: str,
    token: str,
    *,
    title: str = "",
    invite: InviteLink | None = None,
    settings: AppSettings | None = None,
    download_dir: Path | None = None,
    fake_media: bool | None = None,
    features: Sequence[FeatureFactory] | None = None,
    trust: ServerTrust | None = None,
) -> MainWindow:
    """Return the shown meeting window, already connecting on the running loop.

    ``trust`` says how to check an ``https://`` server's certificate: pinned to the
    fingerprint an invite link carries, or verified against CAs (the default);
    ``invite.trust`` when only an invite is given.

    The composition root: one :class:`MeetingSession` (the one socket, the API
    client, *me*, the roster), one window (the shell), and every feature
    installed into both.
    """
    if trust is None and invite is not None and invite.fingerprint is not None:
        trust = invite.trust
    session = MeetingSession(
        MeetingInfo(server_url, session_id, user_id, token, title=title, invite=invite,
                    trust=trust),
        settings if settings is not None else AppSettings(),
        download_dir=download_dir,
        media=MediaOptions(fake=fake_media_from_env() if fake_media is None else fake_media),
    )
    window = MainWindow(session)
    install_features(session, window, default_features() if features is None else features)
    window.show()
    window.start()
    return window


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="conference-gui",
        description="Desktop meeting client. With no arguments: start a local meeting.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument("--join", metavar="LINK", help="join a meeting from an invite link")
    p.add_argument(
        "--server", metavar="URL",
        help="server URL, for a sign-in issued elsewhere (with --session, --user and --token)",
    )
    p.add_argument("--session", metavar="ID", help="the meeting's id on that server")
    p.add_argument("--user", metavar="ID", help="your participant id in that meeting")
    p.add_argument(
        "--token", metavar="TOKEN", help="your sign-in token for that meeting (a signed JWT)"
    )
    p.add_argument(
        "--server-fingerprint", metavar="SHA256",
        help="with --server: accept exactly the https server certificate with this SHA-256 "
        "(what invite links carry as cert=sha256:…)",
    )
    p.add_argument(
        "--ca-file", metavar="PEM", type=Path,
        help="also trust these CAs (PEM) for an https server whose link names no certificate",
    )
    p.add_argument("--name", help="your display name (default: your login name)")
    p.add_argument("--title", default="Meeting", help="title of a new meeting")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address the embedded server binds (0.0.0.0 to let other machines join; then "
        "it speaks HTTPS with a certificate of its own, which the invite link names)",
    )
    p.add_argument(
        "--insecure-http", action="store_true",
        help="the embedded server speaks plain HTTP even on a non-loopback --host",
    )
    p.add_argument("--port", type=int, default=0, help="port of the embedded server (0: any free)")
    p.add_argument("--data-dir", type=Path, help="embedded server's data folder")
    p.add_argument(
        "--fake-media",
        action="store_true",
        default=None,
        help="a synthetic camera and microphone (for trying it out without devices); "
        f"also {FAKE_MEDIA_ENV}=1",
    )
    p.add_argument("--debug", action="store_true", help="verbose logging")
    p.add_argument(
        "--self-check",
        action="store_true",
        help="open a meeting on a temporary embedded server, wait until connected, exit 0 (or 1)",
    )
    args = p.parse_args(argv)
    direct = [args.server, args.session, args.user, args.token]
    if any(direct) and not all(direct):
        p.error("--server, --session, --user and --token go together")
    if args.join and any(direct):
        p.error("use either --join or --server/--session/--user/--token")
    if args.server_fingerprint and not args.server:
        p.error("--server-fingerprint goes with --server")
    fingerprint = None
    if args.server_fingerprint:
        try:
            fingerprint = parse_fingerprint(args.server_fingerprint)
        except ValueError as exc:
            p.error(str(exc))
    if args.join:
        try:
            args.invite = InviteLink.parse(args.join)
        except InviteError as exc:
            p.error(str(exc))
        fingerprint = args.invite.fingerprint
    else:
        args.invite = None
    args.trust = ServerTrust(fingerprint=fingerprint, ca_file=args.ca_file)
    return args


def _setup_logging(debug: bool) -> Path | None:
    """Warnings to stderr; with --debug, everything to a rotating file too."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not debug:
        return None
    log_dir = Path(platformdirs.user_log_dir("conference-gui"))
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / "conference-gui.log"
    handler = RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for noisy in ("asyncio", "urllib3", "engineio", "socketio", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.INFO)
    return path


async def _credentials(
    args: argparse.Namespace, executor: ThreadPoolExecutor
) -> tuple[Credentials, EmbeddedServer | None]:
    name = args.name or args.settings.display_name() or getpass.getuser() or "Guest"
    if args.server:
        return Credentials(args.server, args.session, "", args.user, args.token), None
    if args.invite is not None:
        api = ApiClient(args.invite.server_url, None, executor, trust=args.trust)
        creds = await api.join_session(args.invite.session_id, name, args.invite.code)
        return creds, None
    if args.self_check and args.data_dir is None:  # leave no meeting behind
        args.data_dir = Path(tempfile.mkdtemp(prefix="conference-gui-self-check-"))
        args.remove_data_dir = True
    data_dir = (
        args.data_dir or Path(platformdirs.user_data_dir("conference-gui")) / "embedded-server"
    )
    # Imported here: joining someone else's meeting never loads the server.
    from conference_gui.services.embedded_server import EmbeddedServer

    server = EmbeddedServer(data_dir, host=args.host, port=args.port,
                            insecure_http=args.insecure_http)
    url = await server.start(executor)
    if server.fingerprint is not None:  # our own server, over https on loopback: pin it
        args.trust = ServerTrust(fingerprint=server.fingerprint)
    api = ApiClient(url, None, executor, trust=args.trust)
    return await api.create_session(args.title, name), server


async def run(args: argparse.Namespace) -> int:
    """Bring up the meeting, then wait until the window is gone."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="bootstrap")
    server: EmbeddedServer | None = None
    try:
        if needs_prejoin(args) and not await _prejoin(args, args.title):
            return 0
        try:
            creds, server = await _credentials(args, executor)
        except ApiError as exc:
            message = f"Could not open the meeting: {exc.message}"
            print(f"conference-gui: {message}", file=sys.stderr)
            if not args.self_check:  # a person is watching: tell them in the GUI too
                await _show_error(message)
            return 1
        invite = (
            InviteLink(_public_url(creds.server_url, args.host), creds.session_id, creds.invite,
                       fingerprint=args.trust.fingerprint)
            if creds.invite
            else args.invite
        )
        while True:
            window = create_window(
                creds.server_url,
                creds.session_id,
                creds.user_id,
                creds.token,
                title=creds.session_title,
                invite=invite,
                settings=args.settings,
                # The self-check never opens a real camera or microphone.
                fake_media=True if args.self_check else args.fake_media,
                trust=args.trust,
            )
            if args.self_check:
                return await _self_check(window)
            closed = asyncio.Event()
            window.closed.connect(closed.set)
            await closed.wait()
            await window.shutdown()
            because, detail = window.left_because, window.left_detail
            window.deleteLater()
            if because is None or not await _left_screen(creds.session_title, because, detail):
                break
        return 0
    finally:
        if server is not None:
            await server.stop(executor)
        executor.shutdown(wait=False)
        if getattr(args, "remove_data_dir", False):
            shutil.rmtree(args.data_dir, ignore_errors=True)


def _public_url(url: str, bind_host: str) -> str:
    """The URL others use: with the server on every interface (``--host 0.0.0.0``),
    this machine's name instead of the loopback address we connect to ourselves."""
    if bind_host not in ("0.0.0.0", "::"):
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{socket.gethostname()}:{parts.port}"))


async def _left_screen(title: str, because: LeftBecause, detail: str) -> bool:
    """ "You left <meeting>": True when the person chose Rejoin."""
    screen = LeftScreen(title, because, detail)
    try:
        return await _accepted(screen)
    finally:
        screen.deleteLater()


async def _accepted(dialog: QDialog) -> bool:
    """Open ``dialog`` (not modal for the loop: it keeps running) and await its answer."""
    done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    def finished(result: int) -> None:
        if not done.done():
            done.set_result(result == QDialog.DialogCode.Accepted)

    dialog.finished.connect(finished)
    dialog.open()
    return await done


async def _prejoin(args: argparse.Namespace, title: str) -> bool:
    """First start without a saved name: ask for it (and mic/camera) before joining.

    The preview uses the devices the call will use; they are closed again
    before the meeting opens its own.
    """
    from conference_gui.services.media import MediaDevices
    from conference_gui.ui.prejoin import PreJoinDialog

    fake = fake_media_from_env() if args.fake_media is None else args.fake_media
    devices = MediaDevices(args.settings, fake=fake, name=getpass.getuser())
    devices.start()
    dialog = PreJoinDialog(
        args.settings, title, camera=devices.camera_frames, mic_level=devices.mic_level,
        suggested_name=getpass.getuser(),
    )
    dialog.camera_check.toggled.connect(devices.set_camera_enabled)
    devices.set_camera_enabled(dialog.camera_check.isChecked())
    try:
        return await _accepted(dialog)
    finally:
        devices.stop()
        dialog.deleteLater()


def needs_prejoin(args: argparse.Namespace) -> bool:
    """A person starts or joins for the first time: no name given, none saved."""
    return not (args.name or args.settings.display_name() or args.self_check or args.server)


async def _show_error(message: str) -> None:
    """A non-blocking error box; returns when the person closed it."""
    box = QMessageBox(QMessageBox.Icon.Critical, "Conference", message)
    box.setTextFormat(Qt.TextFormat.PlainText)
    done = asyncio.Event()
    box.finished.connect(lambda _: done.set())
    box.open()
    await done.wait()


async def _self_check(window: MainWindow, timeout: float = 30.0) -> int:
    """Prove the install works end to end: window shown, socket joined, model
    loaded, and a short call between two call engines over loopback (codecs,
    ICE, DTLS/SRTP) with Qt Multimedia's back end loadable (``self_check``)."""
    from conference_gui import self_check

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    resources = window.features["resources"].model
    while not (window.socket.is_ready and resources.ledger.revision is not None):
        if loop.time() > deadline or window.socket.state.value == "error":
            print(
                f"self-check failed: {window.socket.state.value} {window.socket.detail}",
                file=sys.stderr,
            )
            await window.shutdown()
            return 1
        await asyncio.sleep(0.02)
    call = await self_check.call_check(timeout=max(5.0, deadline - loop.time()))
    backends, failures = self_check.media_backends()
    failures += self_check.text_services()
    await window.shutdown()
    window.close()
    if not call.ok or failures:
        for problem in (*call.problems, *failures):
            print(f"self-check failed: {problem}", file=sys.stderr)
        return 1
    print(
        f"self-check ok: connected to {window.meeting.server_url}; {call.describe()}; "
        f"media back end: {', '.join(backends)}; text: collation, encodings, case"
    )
    if window.meeting.invite is not None:
        print(f"invite: {window.meeting.invite}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    log_file = _setup_logging(args.debug)
    import qasync

    existing = QApplication.instance()
    if not isinstance(existing, QApplication):
        prepare_qt_environment()  # before anything paints
        missing = check_display()
        if missing is not None:  # Qt would abort with a misleading message
            print(missing.message(), file=sys.stderr)
            return 1
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("conference-gui")
    app.setApplicationVersion(__version__)
    app.setQuitOnLastWindowClosed(False)  # we quit after disconnecting cleanly
    app.setWindowIcon(icon("participants"))
    args.settings = AppSettings(parent=app)
    if args.name:
        args.settings.set_display_name(args.name)
    if log_file is not None:
        print(f"conference-gui: debug log at {log_file}", file=sys.stderr)
    # A QEventLoop for this thread only: qasync.run() would install a global
    # policy, and the embedded server's thread would then get a Qt loop too.
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        return loop.run_until_complete(run(args))
    finally:
        loop.close()
        asyncio.set_event_loop(None)


if __name__ == "__main__":
    sys.exit(main())
