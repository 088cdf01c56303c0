"""Polls: what may be created, tallies that add up, copies that converge."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conference_gui.domain.meeting import Poll, PollOption
from conference_gui.domain.polls import (
    MAX_OPTIONS,
    PollBook,
    PollInputError,
    may_close,
    may_vote,
    newer,
    percentages,
    results,
    validate_new_poll,
)
from conference_gui.domain.wire import PayloadError
from tests.meeting.shadow import ShadowObserver


def poll(pid: str = "p1", votes: tuple[int, ...] = (0, 0), **kw: object) -> Poll:
    options = tuple(PollOption(f"opt{i}", v) for i, v in enumerate(votes))
    base = Poll(pid, f"Question {pid}?", options, False, "ann")
    return replace(base, **kw)  # type: ignore[arg-type]


@given(st.lists(st.integers(0, 1000), min_size=1, max_size=10))
def test_percentages_are_whole_and_add_up_to_100(votes: list[int]) -> None:
    shares = percentages(votes)
    assert len(shares) == len(votes)
    if sum(votes):
        assert sum(shares) == 100
        for v, s in zip(votes, shares, strict=True):
            assert abs(s - v * 100 / sum(votes)) < 1
    else:
        assert shares == [0] * len(votes)


def test_percentages_examples() -> None:
    assert percentages([2, 1]) == [67, 33]
    assert percentages([1, 1, 1]) == [34, 33, 33]
    assert percentages([0, 5]) == [0, 100]


def test_results_mark_my_vote_and_the_leaders() -> None:
    r = results(poll(votes=(2, 1, 2)), my_vote=1)
    assert [(o.votes, o.percent, o.mine, o.leading) for o in r] == [
        (2, 40, False, True),
        (1, 20, True, False),
        (2, 40, False, True),
    ]
    assert not any(o.leading for o in results(poll(votes=(0, 0))))


def test_validate_cleans_and_skips_blank_option_fields() -> None:
    assert validate_new_poll("  Lunch \n where? ", ["Pizza", "", "  Sushi  ", " "]) == (
        "Lunch where?",
        ("Pizza", "Sushi"),
    )


@pytest.mark.parametrize(
    ("question", "options", "why"),
    [
        ("", ["a", "b"], "question"),
        ("q", ["a"], "at least 2"),
        ("q", ["a", " "], "at least 2"),
        ("q", [str(i) for i in range(MAX_OPTIONS + 1)], "at most 10"),
        ("q", ["Yes", "yes"], "twice"),
        ("q" * 501, ["a", "b"], "longer"),
        ("q", ["a", "b" * 201], "200"),
    ],
)
def test_validate_refuses_what_the_server_would(
    question: str, options: list[str], why: str
) -> None:
    with pytest.raises(PollInputError, match=why):
        validate_new_poll(question, options)


def test_a_stale_copy_never_rolls_results_back_and_closed_stays_closed() -> None:
    current = poll(votes=(2, 1), my_vote=0)
    stale = poll(votes=(1, 1))
    assert newer(current, stale) == current
    closed_stale = poll(votes=(1, 1), closed=True)
    assert newer(current, closed_stale) == replace(current, closed=True)
    fresh = poll(votes=(2, 2))
    assert newer(current, fresh) == replace(fresh, my_vote=0)  # our vote is remembered


def test_book_lists_newest_first_keyed_by_id_and_keeps_my_vote_across_a_resync() -> None:
    book = PollBook()
    obs = ShadowObserver(book)
    book.set_observer(obs)
    book.reset([poll("old"), poll("new")])  # acks list oldest first
    assert [p.id for p in book] == ["new", "old"]
    assert book.upsert(poll("newest")) is None
    assert [p.id for p in book] == ["newest", "new", "old"]
    book.record_vote("old", 1)
    book.upsert(poll("old", votes=(0, 1)))  # a broadcast: says nothing about our vote
    assert book.get("old") == poll("old", votes=(0, 1), my_vote=1)
    book.reset([poll("old", votes=(0, 1)), poll("new")])  # reconnect, ack without myVote
    assert book.get("old").my_vote == 1  # type: ignore[union-attr]
    assert len(book) == 2 and "newest" not in book
    obs.check()


def test_who_may_vote_and_close() -> None:
    p = poll()
    assert may_vote(p)
    assert not may_vote(replace(p, my_vote=0))
    assert not may_vote(replace(p, closed=True))
    assert may_close(p, "ann", is_host=False)  # the creator
    assert may_close(p, "bob", is_host=True)  # the host
    assert not may_close(p, "bob", is_host=False)
    assert not may_close(replace(p, closed=True), "ann", is_host=True)


def test_poll_wire_my_vote_is_optional_and_checked() -> None:
    wire = {
        "id": "p",
        "question": "Q?",
        "options": [{"text": "a", "votes": 1}, {"text": "b", "votes": 0}],
        "closed": False,
        "createdBy": "ann",
    }
    assert Poll.from_wire(wire).my_vote is None
    assert Poll.from_wire({**wire, "myVote": 1}).my_vote == 1
    assert Poll.from_wire({**wire, "myVote": None}).my_vote is None
    for bad in (2, -1, True, "0"):
        with pytest.raises(PayloadError):
            Poll.from_wire({**wire, "myVote": bad})
