"""The call's pure rules: what each participant sends, and who offers to whom.

Wire contract v2 (SPEC section 2, *Calls*): every participant of a session is
in its call; its *media state* says what it sends right now. Of each pair,
the participant whose id is smaller (plain string comparison) offers.
"""

from __future__ import annotations

from dataclasses import dataclass


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
