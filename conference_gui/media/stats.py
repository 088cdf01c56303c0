"""Connection quality per peer, from aiortc's ``getStats()``: cheap snapshots.

The engine takes one snapshot per connected peer every few seconds (not per
frame) and keeps the newest; the GUI reads it whenever it likes. Bit rates
and the loss fraction are over the interval since the previous snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

Section = str  # "audio" | "camera" | "screen"


@dataclass(frozen=True, slots=True)
class SectionCounters:
    """Cumulative RTP counters of one media section (one transceiver)."""

    packets_sent: int = 0
    bytes_sent: int = 0
    packets_received: int = 0
    packets_lost: int = 0
    #: Interarrival jitter of what we receive, in seconds.
    jitter: float = 0.0


@dataclass(frozen=True, slots=True)
class PeerStats:
    """One snapshot of a peer connection's quality.

    ``rtt`` (seconds) comes from the peer's RTCP receiver reports and is None
    until one arrived; ``loss`` is the fraction of packets we expected from
    the peer and did not get over the last interval; ``jitter`` is the worst
    section's; bit rates are bits per second over the last interval, all
    sections together, counted by the transport (so RTCP and retransmissions
    count too).
    """

    at: float
    state: str
    rtt: float | None
    loss: float
    jitter: float
    bitrate_in: float
    bitrate_out: float
    bytes_in: int
    bytes_out: int
    sections: Mapping[Section, SectionCounters] = field(default_factory=dict)


def section_counters(
    report: Iterable[object], clock_rate: int
) -> tuple[SectionCounters, float | None]:
    """A section's counters (and RTT, if reported) from one sender's and receiver's stats."""
    sent_p = sent_b = recv_p = lost = 0
    jitter = 0.0
    rtt: float | None = None
    for item in report:
        kind = getattr(item, "type", None)
        if kind == "outbound-rtp":
            sent_p += int(getattr(item, "packetsSent", 0) or 0)
            sent_b += int(getattr(item, "bytesSent", 0) or 0)
        elif kind == "inbound-rtp":
            recv_p += int(getattr(item, "packetsReceived", 0) or 0)
            lost += max(0, int(getattr(item, "packetsLost", 0) or 0))
            jitter = max(jitter, float(getattr(item, "jitter", 0) or 0) / clock_rate)
        elif kind == "remote-inbound-rtp":
            value = getattr(item, "roundTripTime", None)
            if isinstance(value, int | float):
                rtt = float(value)
    return SectionCounters(sent_p, sent_b, recv_p, lost, jitter), rtt


def transport_bytes(report: Iterable[object]) -> tuple[int, int]:
    """(bytes received, bytes sent) of the transport(s) in a report."""
    seen: dict[str, tuple[int, int]] = {}
    for item in report:
        if getattr(item, "type", None) == "transport":
            seen[str(getattr(item, "id", ""))] = (
                int(getattr(item, "bytesReceived", 0) or 0),
                int(getattr(item, "bytesSent", 0) or 0),
            )
    return sum(v[0] for v in seen.values()), sum(v[1] for v in seen.values())


def snapshot(
    at: float,
    state: str,
    sections: Mapping[Section, SectionCounters],
    rtts: Iterable[float | None],
    bytes_in: int,
    bytes_out: int,
    previous: PeerStats | None,
) -> PeerStats:
    """Combine one round of counters with the previous snapshot into rates."""
    known = [r for r in rtts if r is not None]
    rtt = sum(known) / len(known) if known else None
    received = sum(s.packets_received for s in sections.values())
    lost = sum(s.packets_lost for s in sections.values())
    jitter = max((s.jitter for s in sections.values()), default=0.0)
    rate_in = rate_out = loss = 0.0
    if previous is not None and at > previous.at:
        span = at - previous.at
        rate_in = max(0, bytes_in - previous.bytes_in) * 8 / span
        rate_out = max(0, bytes_out - previous.bytes_out) * 8 / span
        prev_received = sum(s.packets_received for s in previous.sections.values())
        prev_lost = sum(s.packets_lost for s in previous.sections.values())
        d_recv, d_lost = max(0, received - prev_received), max(0, lost - prev_lost)
        loss = d_lost / (d_recv + d_lost) if d_recv + d_lost else 0.0
    elif received + lost:
        loss = lost / (received + lost)
    return PeerStats(
        at, state, rtt, loss, jitter, rate_in, rate_out, bytes_in, bytes_out, dict(sections)
    )
