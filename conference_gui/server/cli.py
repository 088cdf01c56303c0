"""``conference-server``: run the reference server until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from conference_gui import __version__

from .app import CONTEXT, UnsupportedConfig, make_storage
from .cluster import redact_redis, redis_manager
from .config import ServerConfig, default_data_dir, is_loopback
from .runner import loop_factory, loop_name, start_server, tune_gc
from .sfu import JanusTarget
from .testhooks import ENV_SWITCH
from .tls import own_certificate, spaced

log = logging.getLogger("conference_gui.server")

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    defaults = ServerConfig.__dataclass_fields__
    parser = argparse.ArgumentParser(
        prog="conference-server",
        description="Reference server of conference-gui (wire contract v1 and v2).",
    )
    parser.add_argument("--host", default=defaults["host"].default,
                        help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=defaults["port"].default,
                        help="TCP port; 0 picks a free one (default: %(default)s)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help=f"database, files and token secret (default: {default_data_dir()})")
    parser.add_argument("--max-upload-mb", type=float, default=defaults["max_upload_mb"].default,
                        help="largest accepted upload in MiB (default: %(default)s)")
    parser.add_argument("--redis-url", default=None,
                        help="redis://HOST:PORT/DB: share room emits with the other nodes "
                             "(several nodes; see docs/SCALING.md)")
    parser.add_argument("--database-url", default=None,
                        help="postgresql://USER@HOST:PORT/DB: sessions, resources and revisions "
                             "in PostgreSQL instead of SQLite in --data-dir (several nodes "
                             "share one database and one --data-dir)")
    tls = parser.add_argument_group(
        "TLS", "on any address but loopback the server speaks HTTPS/WSS: with a self-signed "
        "certificate kept in --data-dir (invite links carry its fingerprint, the client pins "
        "it), or with your own")
    tls.add_argument("--tls-cert", type=Path, default=None, metavar="PEM",
                     help="a certificate of your own (chain, PEM); clients verify it against "
                          "their CAs and the host name")
    tls.add_argument("--tls-key", type=Path, default=None, metavar="PEM",
                     help="its private key (PEM), unless it is in --tls-cert's file")
    tls.add_argument("--insecure-http", action="store_true",
                     help="plain HTTP on a non-loopback address (only behind a proxy that "
                          "terminates TLS, or on a network you trust)")
    parser.add_argument("--janus-url", action="append", default=[], metavar="ws://HOST:PORT",
                        help="a Janus Gateway (WebSocket API, VideoRoom plugin) for calls of "
                             "three or more; repeat for several (each meeting uses one). "
                             "Optional ?apisecret=S&adminkey=K. See docs/SCALING.md")
    limits = parser.add_argument_group(
        "limits", "what one participant cannot talk past (docs/RELIABILITY.md, Limits)")
    for flag, kind, text in _LIMIT_FLAGS:
        name = flag.removeprefix("--").replace("-", "_")
        limits.add_argument(flag, type=kind, default=defaults[name].default,
                            help=f"{text} (default: %(default)s)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


_LIMIT_FLAGS: list[tuple[str, type, str]] = [
    ("--meeting-quota-mb", float, "MiB of files one meeting may hold"),
    ("--disk-quota-mb", float, "MiB of files all meetings together may hold"),
    ("--upload-stall-seconds", float,
     "an upload that brings less than 16 KiB in this many seconds is dropped"),
    ("--max-socket-message-kb", int, "largest Socket.IO message accepted, KiB"),
    ("--max-queue-kb", int, "KiB waiting to be sent to one connection before it is dropped"),
    ("--max-signal-kb", int, "largest signal data relayed, KiB"),
    ("--max-polls", int, "polls one meeting may hold"),
    ("--join-chat-messages", int, "newest chat messages in a join ack"),
    ("--connections-per-user", int, "live connections of one user per node"),
]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = ServerConfig(
            host=args.host,
            port=args.port,
            data_dir=args.data_dir or default_data_dir(),
            max_upload_mb=args.max_upload_mb,
            redis_url=args.redis_url or None,
            database_url=args.database_url or None,
            tls_cert=args.tls_cert,
            tls_key=args.tls_key,
            insecure_http=args.insecure_http,
            janus_urls=tuple(args.janus_url),
            **{flag.removeprefix("--").replace("-", "_"):
               getattr(args, flag.removeprefix("--").replace("-", "_"))
               for flag, _kind, _text in _LIMIT_FLAGS},
            # Test-only HTTP hooks (testhooks.py); deliberately no command-line flag.
            test_hooks=os.environ.get(ENV_SWITCH) == "1",
        )
        check_urls(config)
        if config.tls_cert is not None:
            own_certificate(config.tls_cert, config.tls_key)  # readable, and a pair
    except ValueError as exc:
        parser.error(str(exc))
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    try:
        factory = loop_factory()
    except ValueError as exc:
        parser.error(str(exc))
    try:
        with asyncio.Runner(loop_factory=factory) as runner:
            runner.run(_serve(config))
    except (OSError, UnsupportedConfig, RuntimeError) as exc:
        print(f"conference-server: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def check_urls(config: ServerConfig) -> None:
    """Refuse a URL of an unknown kind before starting (exit code 2)."""
    make_storage(config)  # raises UnsupportedConfig (a ValueError) for unknown schemes
    if config.redis_url:
        redis_manager(config.redis_url)
    for url in config.janus_urls:
        JanusTarget.parse(url)


async def _serve(config: ServerConfig) -> None:
    stop = asyncio.Event()
    _on_signals(asyncio.get_running_loop(), stop.set)
    server = await start_server(config)
    tune_gc()
    if config.test_hooks:
        log.warning("%s=1: test hooks are enabled; never do this in production", ENV_SWITCH)
    print(f"listening on {server.listen_url}", flush=True)
    if server.fingerprint:
        # Invite links carry it (conference-gui makes them); for links made by hand.
        print(f"tls certificate sha256:{server.fingerprint}", flush=True)
        log.info("TLS with the self-signed certificate %s, SHA-256 %s",
                 server.certificate.cert_file if server.certificate else "?",
                 spaced(server.fingerprint))
    elif server.certificate is not None:
        log.info("TLS with %s", server.certificate.cert_file)
    elif not is_loopback(config.host):
        log.warning("--insecure-http: plain HTTP on %s; tokens, chat and files cross the "
                    "network unencrypted", config.host)
    log.info("data in %s (event loop: %s)", config.data_dir,
             loop_name(asyncio.get_running_loop()))
    if config.database_url:
        log.info("database: %r", server.app[CONTEXT].storage)
    if config.redis_url:
        log.info("redis: %s", redact_redis(config.redis_url))
    for url in config.janus_urls:
        log.info("media server: %s", JanusTarget.parse(url).url)
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        await server.close()


def _on_signals(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
    """Call ``callback`` on the loop at SIGINT/SIGTERM (also where add_signal_handler is absent)."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, callback)
        except (NotImplementedError, RuntimeError):  # Windows
            with contextlib.suppress(ValueError, OSError):
                signal.signal(signum, lambda *_: loop.call_soon_threadsafe(callback))
