"""Counted words for people: "1 vote", "2 votes" (no "vote(s)")."""

from __future__ import annotations


def plural(n: int, one: str, many: str) -> str:
    """``one`` or ``many`` for ``n``, with ``%n`` replaced by the number.

    Callers pass both forms through their ``tr()`` so translators see them.
    """
    return (one if n == 1 else many).replace("%n", str(n))
