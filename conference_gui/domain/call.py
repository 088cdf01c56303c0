"""The call's pure rules: what each participant sends, who offers to whom,
which signals are well-formed and current, and who is speaking.

Wire contract v2 (SPEC section 2, *Calls*): every participant of a session is
in its call; its *media state* says what it sends right now. Of each pair,
the participant whose id is smaller (plain string comparison) offers.

Nothing here does I/O or knows aiortc: the call engine
(``conference_gui.media.engine``) applies these rules, and tests check them
without a network or a clock (time is passed in).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

# --------------------------------------------------------------------------- media state


@dataclass(frozen=True, slots=True)
class MediaState:
    """What one participant sends right now (all off until it says otherwise)."""

    audio: bool = False
    video: bool = False
    screen: bool = False

    def to_wire(self) -> dict[str, bool]:
        return {"audio": self.audio, "video": self.video, "screen": self.screen}


NOTHING = MediaState()


@dataclass(frozen=True, slots=True)
class CallInfo:
    """How this connection takes part in the call (the join ack's and ``call-moved``'s
    ``call``): ``mode`` is ``"mesh"`` (or ``"sfu"`` later); ``active`` is false when
    the user's call is in another window of theirs (docs/WIRE.md, *The call connection*).
    """

    mode: str = "mesh"
    active: bool = True


#: What a server without wire contract v2's ``call`` means: every connection is in a mesh.
MESH_ACTIVE = CallInfo()


def is_offerer(me: str, other: str) -> bool:
    """True when ``me`` makes the offer to ``other`` (the smaller id offers)."""
    return me < other


# --------------------------------------------------------------------------- signals

#: The largest SDP accepted from a peer. A real three-section offer is 3–10 KB;
#: anything near this is garbage or an attack, and parsing it would stall the
#: engine's loop for every other pair.
MAX_SDP_CHARS: Final = 100_000
#: Offer ids are ours (32 hex digits) or a browser's; none needs more.
MAX_ID_CHARS: Final = 200
#: One ``candidate:...`` line; real ones are under 200 characters.
MAX_CANDIDATE_CHARS: Final = 2_000
#: ``sdpMid`` values are short tokens ("0", "audio").
MAX_MID_CHARS: Final = 64
#: The order of the three media sections every offer and answer has.
SECTION_KINDS: Final = ("audio", "video", "video")


class BadSignal(ValueError):
    """A ``signal`` payload that does not follow wire contract v2; the message is
    one human-readable line, fit for a log and for a problem report."""


@dataclass(frozen=True, slots=True)
class OfferSignal:
    sdp: str
    id: str


@dataclass(frozen=True, slots=True)
class AnswerSignal:
    sdp: str
    id: str


@dataclass(frozen=True, slots=True)
class CandidateInit:
    """One trickled ICE candidate (``RTCIceCandidateInit`` of the browser API)."""

    candidate: str
    sdp_mid: str | None
    sdp_mline_index: int | None

    def to_wire(self) -> dict[str, object]:
        return {
            "candidate": self.candidate,
            "sdpMid": self.sdp_mid,
            "sdpMLineIndex": self.sdp_mline_index,
        }


@dataclass(frozen=True, slots=True)
class CandidateSignal:
    """A trickled candidate for offer ``id``; ``candidate`` None ends them."""

    id: str
    candidate: CandidateInit | None


@dataclass(frozen=True, slots=True)
class ByeSignal:
    pass


Signal = OfferSignal | AnswerSignal | CandidateSignal | ByeSignal


def new_offer_id() -> str:
    """A fresh offer id: random, so ids stay unique across restarts of a client."""
    return uuid.uuid4().hex


def offer_wire(sdp: str, offer_id: str) -> dict[str, object]:
    return {"type": "offer", "sdp": sdp, "id": offer_id}


def answer_wire(sdp: str, offer_id: str) -> dict[str, object]:
    return {"type": "answer", "sdp": sdp, "id": offer_id}


def candidate_wire(offer_id: str, candidate: CandidateInit | None) -> dict[str, object]:
    return {
        "type": "candidate",
        "id": offer_id,
        "candidate": None if candidate is None else candidate.to_wire(),
    }


def bye_wire() -> dict[str, object]:
    return {"type": "bye"}


def _text(body: Mapping[str, object], key: str, limit: int, what: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise BadSignal(f"{what} without the string {key!r}")
    if len(value) > limit:
        raise BadSignal(f"{what} with a {key!r} of {len(value)} characters (limit {limit})")
    return value


def _candidate(value: object) -> CandidateInit | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise BadSignal("candidate that is neither an object nor null")
    line = _text(value, "candidate", MAX_CANDIDATE_CHARS, "candidate")
    if line.startswith("a="):
        line = line[2:]
    if not line.startswith("candidate:"):
        raise BadSignal("candidate line that does not start with 'candidate:'")
    mid = value.get("sdpMid")
    index = value.get("sdpMLineIndex")
    if mid is not None and (not isinstance(mid, str) or len(mid) > MAX_MID_CHARS):
        raise BadSignal("candidate with an sdpMid that is not a short string")
    if index is not None and (
        not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < 64
    ):
        raise BadSignal("candidate with an sdpMLineIndex that is not a small integer")
    if mid is None and index is None:
        raise BadSignal("candidate with neither sdpMid nor sdpMLineIndex")
    return CandidateInit(line, mid, index)


def parse_signal(data: object) -> Signal:
    """The typed form of a peer's ``signal`` data, or :class:`BadSignal`.

    Everything here comes from another participant and is untrusted: types,
    sizes and required keys are checked before anything reaches aiortc.
    """
    if not isinstance(data, Mapping):
        raise BadSignal(f"signal data is a {type(data).__name__}, not an object")
    kind = data.get("type")
    if kind == "offer":
        return OfferSignal(
            _text(data, "sdp", MAX_SDP_CHARS, "offer"), _text(data, "id", MAX_ID_CHARS, "offer")
        )
    if kind == "answer":
        return AnswerSignal(
            _text(data, "sdp", MAX_SDP_CHARS, "answer"),
            _text(data, "id", MAX_ID_CHARS, "answer"),
        )
    if kind == "candidate":
        if "candidate" not in data:
            raise BadSignal("candidate message without a 'candidate' key")
        return CandidateSignal(
            _text(data, "id", MAX_ID_CHARS, "candidate"), _candidate(data.get("candidate"))
        )
    if kind == "bye":
        return ByeSignal()
    if kind is None:
        raise BadSignal("signal without a 'type'")
    shown = repr(kind)[:40] if isinstance(kind, str) else type(kind).__name__
    raise BadSignal(f"signal of unknown type {shown}")


def section_kinds(sdp: str) -> list[str]:
    """The kinds of an SDP's media sections, in order (``m=audio ...`` → ``"audio"``)."""
    kinds = []
    for line in sdp.splitlines():
        if line.startswith("m="):
            kinds.append(line[2:].split(" ", 1)[0])
    return kinds


def check_sections(sdp: str, what: str) -> None:
    """:class:`BadSignal` unless ``sdp`` has exactly audio, video, video (SPEC)."""
    kinds = section_kinds(sdp)
    if tuple(kinds) != SECTION_KINDS:
        shown = ", ".join(kinds) if kinds else "none"
        raise BadSignal(f"{what} must have the media sections audio, video, video (has {shown})")


# --------------------------------------------------------------------------- who is in the call


@dataclass(frozen=True, slots=True)
class JoinPlan:
    """What a join ack means for the connections: ``listed`` are the peers now in
    the call (sorted), ``gone`` those that were and no longer are."""

    listed: tuple[str, ...]
    gone: tuple[str, ...]


class CallRoster:
    """Who is in the call with me, by the server's word (join ack and events).

    The rule it keeps: ``participant-joined`` before my first join ack is
    ignored (the ack's list covers it), and my own id is never a peer.
    """

    def __init__(self) -> None:
        self.me: str | None = None
        self._peers: set[str] = set()

    @property
    def joined(self) -> bool:
        return self.me is not None

    @property
    def peers(self) -> frozenset[str]:
        return frozenset(self._peers)

    def __contains__(self, pid: object) -> bool:
        return pid in self._peers

    def join(self, me: str, others: Iterable[str]) -> JoinPlan:
        """A join ack (the first, or one after a reconnect)."""
        listed = {p for p in others if isinstance(p, str) and p and p != me}
        gone = self._peers - listed
        self.me = me
        self._peers = listed
        return JoinPlan(tuple(sorted(listed)), tuple(sorted(gone)))

    def add(self, pid: str) -> bool:
        """``participant-joined``: True when this is a peer the call now has."""
        if self.me is None or not pid or pid == self.me:
            return False
        self._peers.add(pid)
        return True

    def remove(self, pid: str) -> bool:
        """``participant-left``: True when the peer was in the call."""
        if pid in self._peers:
            self._peers.discard(pid)
            return True
        return False

    def leave(self) -> tuple[str, ...]:
        """I leave: nobody is a peer any more, and events wait for a new join."""
        peers = tuple(sorted(self._peers))
        self._peers.clear()
        self.me = None
        return peers

    def offers_to(self, pid: str) -> bool:
        """True when I make the offer to ``pid`` (I have joined and my id is smaller)."""
        return self.me is not None and is_offerer(self.me, pid)


class OfferBook:
    """The current offer id of each pair: answers and candidates carrying any
    other id are stale (SPEC: ignored)."""

    def __init__(self) -> None:
        self._current: dict[str, str] = {}

    def start(self, pid: str) -> str:
        """I offer to ``pid``: a new id, which makes every earlier one stale."""
        offer_id = new_offer_id()
        self._current[pid] = offer_id
        return offer_id

    def adopt(self, pid: str, offer_id: str) -> None:
        """``pid`` offered to me with ``offer_id``: that one is now current."""
        self._current[pid] = offer_id

    def current(self, pid: str) -> str | None:
        return self._current.get(pid)

    def is_current(self, pid: str, offer_id: str) -> bool:
        return self._current.get(pid) == offer_id

    def forget(self, pid: str) -> None:
        self._current.pop(pid, None)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delays before the offerer restarts a failed connection: ``first``,
    doubling, at most ``cap`` seconds. Restarting at once in a loop would
    flood the peer (and the server) while the network is really gone."""

    first: float = 0.5
    cap: float = 15.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before restart number ``attempt`` (0 for the first)."""
        if attempt <= 0:
            return self.first
        return min(self.cap, self.first * math.pow(2.0, min(attempt, 30)))


# --------------------------------------------------------------------------- speaking


class SpeakingDetector:
    """Is someone speaking? With hysteresis, so a tile's outline does not flicker.

    Speaking starts after ``start_after`` seconds of level above ``threshold``
    (a 200 ms cough is not speech); it stops after ``stop_after`` seconds below
    it (the pauses between words and sentences are not silence). A short dip
    while loud, or a short burst while quiet, restarts nothing. Time is passed
    in, so it is testable without sleeping; feed it every ~50–100 ms.
    """

    def __init__(
        self, threshold: float = 0.02, start_after: float = 1.0, stop_after: float = 2.0,
        gap: float = 0.3,
    ) -> None:
        self.threshold = threshold
        self.start_after = start_after
        self.stop_after = stop_after
        #: A dip shorter than this does not break a run of sound while the
        #: detector is waiting to say "speaking" (words have gaps).
        self.gap = gap
        self.speaking = False
        self._loud_since: float | None = None
        self._last_loud: float | None = None

    def update(self, level: float, now: float) -> bool:
        """Feed the current level at time ``now`` (seconds); returns :attr:`speaking`."""
        loud = level >= self.threshold
        if loud:
            if self._loud_since is None or (
                self._last_loud is not None and now - self._last_loud > self.gap
                and not self.speaking
            ):
                self._loud_since = now
            self._last_loud = now
            if not self.speaking and now - self._loud_since >= self.start_after:
                self.speaking = True
        else:
            if self.speaking:
                if self._last_loud is None or now - self._last_loud >= self.stop_after:
                    self.speaking = False
                    self._loud_since = None
            elif self._last_loud is not None and now - self._last_loud > self.gap:
                self._loud_since = None
        return self.speaking

    def reset(self) -> None:
        self.speaking = False
        self._loud_since = self._last_loud = None
