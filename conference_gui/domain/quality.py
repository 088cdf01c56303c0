"""Connection quality in three words, from a peer connection's numbers.

Thresholds follow what people notice in a call: above ~300 ms of round trip
people talk over each other, above a few percent loss video freezes and
speech drops syllables, and a jitter of 50 ms starts to show as stutter.
"""

from __future__ import annotations

from dataclasses import dataclass

GOOD = "good"
POOR = "poor"
LOST = "lost"

RTT_POOR_S = 0.3
LOSS_POOR = 0.05
JITTER_POOR_S = 0.05
#: Nothing heard from the peer for this long: the connection is lost.
SILENT_LOST_S = 5.0


@dataclass(frozen=True, slots=True)
class Numbers:
    """What the quality is judged from (a snapshot of the connection's statistics)."""

    state: str
    rtt: float | None
    loss: float
    jitter: float
    bitrate_in: float
    bitrate_out: float
    #: seconds since anything arrived from the peer (None: not known)
    silent_for: float | None = None


def judge(n: Numbers) -> str:
    """good / poor / lost."""
    if n.state in ("failed", "closed", "disconnected"):
        return LOST
    if n.silent_for is not None and n.silent_for >= SILENT_LOST_S:
        return LOST
    if (n.rtt is not None and n.rtt >= RTT_POOR_S) or n.loss >= LOSS_POOR \
            or n.jitter >= JITTER_POOR_S:
        return POOR
    return GOOD


def describe(n: Numbers) -> str:
    """The numbers in a tooltip: "Connection: good · round trip 12 ms · loss 0.0 % · …"."""
    parts = [f"Connection: {judge(n)}"]
    parts.append(f"round trip {n.rtt * 1000:.0f} ms" if n.rtt is not None else "round trip –")
    parts.append(f"loss {n.loss * 100:.1f} %")
    parts.append(f"jitter {n.jitter * 1000:.0f} ms")
    parts.append(f"in {n.bitrate_in / 1000:.0f} kbit/s, out {n.bitrate_out / 1000:.0f} kbit/s")
    return " · ".join(parts)


def uplink_poor(judged: list[Numbers]) -> bool:
    """Our own connection is the problem when it is poor towards (nearly) everyone.

    One poor peer is that peer's network; all of them at once is ours.
    """
    if not judged:
        return False
    poor = sum(1 for n in judged if judge(n) != GOOD)
    return poor == len(judged) and (len(judged) > 1 or judge(judged[0]) == POOR)
