"""Polls: validating a new poll, tallies with percentages, and the client's poll book.

Results converge: votes only ever grow and a poll only ever closes, so of two
copies of a poll the one with more votes (and closed if either is) is the
newer. That makes a late ack that overtook a room broadcast harmless.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from conference_gui.domain.meeting import Poll
from conference_gui.domain.rows import ObservableRows, RowObserver

MIN_OPTIONS = 2
MAX_OPTIONS = 10
#: The server's limits (``MAX_QUESTION_LENGTH`` / ``MAX_OPTION_LENGTH``).
MAX_QUESTION_LENGTH = 500
MAX_OPTION_LENGTH = 200


class PollInputError(ValueError):
    """A poll that cannot be created, with a message for the person."""


def _one_line(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    return " ".join("".join(" " if ch.isspace() else ch for ch in text).split())


def validate_new_poll(question: str, options: Iterable[str]) -> tuple[str, tuple[str, ...]]:
    """The question and options as they would be sent; blank option fields are skipped.

    Raises :class:`PollInputError` naming the first problem.
    """
    q = _one_line(question)
    if not q:
        raise PollInputError("Ask a question.")
    if len(q) > MAX_QUESTION_LENGTH:
        raise PollInputError(f"The question is longer than {MAX_QUESTION_LENGTH} characters.")
    opts = tuple(o for o in (_one_line(o) for o in options) if o)
    if len(opts) < MIN_OPTIONS:
        raise PollInputError(f"Give at least {MIN_OPTIONS} options.")
    if len(opts) > MAX_OPTIONS:
        raise PollInputError(f"A poll has at most {MAX_OPTIONS} options.")
    for o in opts:
        if len(o) > MAX_OPTION_LENGTH:
            raise PollInputError(f"Options are at most {MAX_OPTION_LENGTH} characters long.")
    seen: set[str] = set()
    for o in opts:
        if o.casefold() in seen:
            raise PollInputError(f"“{o}” is listed twice.")
        seen.add(o.casefold())
    return q, opts


def percentages(votes: Sequence[int]) -> list[int]:
    """Whole percentages that add up to exactly 100 (largest remainder); all 0 without votes."""
    total = sum(votes)
    if total <= 0:
        return [0] * len(votes)
    exact = [v * 100 / total for v in votes]
    shares = [int(x) for x in exact]
    short = 100 - sum(shares)
    # Hand the missing points to the largest remainders; ties go to the earlier option.
    order = sorted(range(len(votes)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in order[:short]:
        shares[i] += 1
    return shares


@dataclass(frozen=True, slots=True)
class OptionResult:
    index: int
    text: str
    votes: int
    percent: int
    mine: bool  # this user voted for it
    leading: bool  # has the most votes (all tied leaders), only once someone voted


def results(poll: Poll, my_vote: int | None = None) -> tuple[OptionResult, ...]:
    votes = [o.votes for o in poll.options]
    shares = percentages(votes)
    top = max(votes) if votes else 0
    return tuple(
        OptionResult(i, o.text, o.votes, shares[i], my_vote == i, top > 0 and o.votes == top)
        for i, o in enumerate(poll.options)
    )


def newer(current: Poll, incoming: Poll) -> Poll:
    """Merge two copies of one poll: votes never shrink, closed stays closed."""
    if incoming.total_votes < current.total_votes:
        base = replace(current, closed=current.closed or incoming.closed)
    else:
        base = replace(incoming, closed=current.closed or incoming.closed)
    my_vote = incoming.my_vote if incoming.my_vote is not None else current.my_vote
    return base if base.my_vote == my_vote else replace(base, my_vote=my_vote)


def may_close(poll: Poll, user_id: str | None, is_host: bool) -> bool:
    """The poll's creator and the host may close an open poll."""
    return not poll.closed and (is_host or (user_id is not None and poll.created_by == user_id))


def may_vote(poll: Poll) -> bool:
    """Once per person, while the poll is open."""
    return not poll.closed and poll.my_vote is None


def may_change_vote(poll: Poll) -> bool:
    """A vote can be changed (``poll-vote`` again) until the poll closes."""
    return not poll.closed


class PollBook(ObservableRows[Poll]):
    """The meeting's polls, newest first; each keyed by id."""

    def __init__(self, observer: RowObserver | None = None) -> None:
        super().__init__(observer)
        self._ids: list[str] = []

    def __contains__(self, poll_id: object) -> bool:
        return poll_id in self._ids

    def get(self, poll_id: str) -> Poll | None:
        row = self.row_of(poll_id)
        return None if row is None else self._rows[row]

    def row_of(self, poll_id: str) -> int | None:
        try:
            return self._ids.index(poll_id)
        except ValueError:
            return None

    def open_polls(self) -> list[Poll]:
        return [p for p in self._rows if not p.closed]

    def reset(self, polls: Iterable[Poll]) -> None:
        """Replace every poll (from a join ack, which lists them oldest first).

        A vote we know of survives even if this copy does not say it.
        """
        merged: dict[str, Poll] = {}
        for poll in polls:
            known = self.get(poll.id)
            if known is not None and poll.my_vote is None and known.my_vote is not None:
                poll = replace(poll, my_vote=known.my_vote)
            merged[poll.id] = poll
        rows = list(reversed(merged.values()))
        self._ids = [p.id for p in rows]
        self._reset_rows(rows)

    def upsert(self, poll: Poll) -> Poll | None:
        """Add a poll at the top or merge a copy of a known one; returns the previous copy."""
        row = self.row_of(poll.id)
        if row is None:
            self._ids.insert(0, poll.id)
            self._insert_rows(0, [poll])
            return None
        previous = self._rows[row]
        merged = newer(previous, poll)
        if merged != previous:
            self._replace_row(row, merged)
        return previous

    def record_vote(self, poll_id: str, option: int) -> None:
        row = self.row_of(poll_id)
        if row is not None and self._rows[row].my_vote != option:
            self._replace_row(row, replace(self._rows[row], my_vote=option))
