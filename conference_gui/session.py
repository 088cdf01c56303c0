"""The composition root of one meeting: what every feature of a window shares.

One :class:`MeetingSession` per meeting window holds the window's one
:class:`SocketService`, the REST client, the settings, who *I* am and who is
here (the roster), and the order in which all of it stops. Features
(resources, participants, chat, polls, the call) are handed the session and
take what they need from it; none of them builds a client of its own.

No widgets here: the window (the shell) renders, features install widgets
into it, the session only owns services and the shared models.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from conference_gui.domain.invite import InviteLink, token_name
from conference_gui.domain.trust import ServerTrust
from conference_gui.models.me import Me
from conference_gui.models.participants_model import ParticipantListModel, ParticipantsController
from conference_gui.services.http_client import ApiClient
from conference_gui.services.settings import AppSettings
from conference_gui.services.socket_service import SocketService

log = logging.getLogger(__name__)

Shutdown = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class MeetingInfo:
    """Everything a window needs to take part in one meeting."""

    server_url: str
    session_id: str
    user_id: str
    token: str
    title: str = ""
    invite: InviteLink | None = None
    #: how to check an https server's certificate (None: the usual CA checks)
    trust: ServerTrust | None = None

    @property
    def name(self) -> str:
        """The display name the token was issued for (shown before the server answers)."""
        return token_name(self.token)


@dataclass(frozen=True, slots=True)
class MediaOptions:
    """How this window's call gets its devices.

    ``fake``: the synthetic camera and tone of SPEC section 3 (``--fake-media``),
    for tests, demos and machines without a camera.
    """

    fake: bool = False


class MeetingSession:
    """The services and shared models of one meeting window, and their shutdown order.

    Construction connects nothing; :meth:`start` does, on the running loop.
    Features register what must stop with :meth:`on_shutdown`; :meth:`shutdown`
    runs those in reverse order of registration (the last installed stops
    first), then the roster, then the socket, then the HTTP workers.
    """

    def __init__(
        self,
        info: MeetingInfo,
        settings: AppSettings,
        *,
        download_dir: Path | None = None,
        media: MediaOptions | None = None,
    ) -> None:
        self.info = info
        self.settings = settings
        self.download_dir = download_dir or settings.download_dir()
        self.media = media or MediaOptions()
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="http")
        self.socket = SocketService(info.server_url, info.session_id, info.user_id, info.token,
                                    trust=info.trust)
        self.api = ApiClient(info.server_url, info.token, self._executor, trust=info.trust)
        self.me = Me(info.user_id)
        self.roster = ParticipantListModel(me_id=info.user_id)
        self.participants = ParticipantsController(self.socket, self.roster, self.me)
        self._shutdowns: list[tuple[str, Shutdown]] = []
        self._closed = False

    def name_of(self, user_id: str) -> str | None:
        """The display name of someone in the meeting (``None`` if not here)."""
        p = self.roster.roster.get(user_id)
        return p.name if p is not None else None

    def on_shutdown(self, what: str, stop: Shutdown) -> None:
        """Run ``stop`` when the meeting closes (``what`` names it in the log)."""
        self._shutdowns.append((what, stop))

    def start(self) -> None:
        """Connect on the running loop."""
        self.socket.start()

    @property
    def closed(self) -> bool:
        return self._closed

    async def shutdown(self) -> None:
        """Stop everything once, in order; a failing part does not keep the rest running."""
        if self._closed:
            return
        self._closed = True
        for what, stop in reversed(self._shutdowns):
            try:
                await stop()
            except Exception:
                log.exception("stopping %s failed", what)
        self._shutdowns.clear()
        await self.participants.shutdown()
        await self.socket.stop()
        self._executor.shutdown(wait=False, cancel_futures=True)
