"""Chat history: pending until acked, failed with a retry, never listed twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conference_gui.domain.chat import (
    MAX_CHAT_LENGTH,
    ChatHistory,
    ChatInputError,
    SendState,
    UnreadCounter,
    clean_outgoing,
)
from conference_gui.domain.meeting import ChatMessage
from conference_gui.domain.resources import Person
from tests.meeting.shadow import ShadowObserver

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ME = Person("me", "Me")
BOB = Person("bob", "Bob")


def msg(mid: str, text: str, sender: Person = ME, at: int = 0) -> ChatMessage:
    return ChatMessage(mid, sender, text, T0 + timedelta(seconds=at))


def history() -> tuple[ChatHistory, ShadowObserver]:
    h = ChatHistory("me", clock=lambda: T0)
    obs = ShadowObserver(h)
    h.set_observer(obs)
    return h, obs


def states(h: ChatHistory) -> list[tuple[str, SendState]]:
    return [(e.text, e.state) for e in h]


def test_own_message_is_pending_until_the_ack_then_sent_with_the_servers_id() -> None:
    h, obs = history()
    key = h.add_pending(ME, "hello")
    assert states(h) == [("hello", SendState.PENDING)]
    h.acknowledge(key, msg("m1", "hello"))
    assert states(h) == [("hello", SendState.SENT)]
    assert h.entry(key).message_id == "m1"  # type: ignore[union-attr]
    # The room broadcast of the same message adds nothing.
    assert h.receive(msg("m1", "hello")) is None
    assert len(h) == 1
    obs.check()


def test_broadcast_before_ack_confirms_the_pending_row_instead_of_adding_one() -> None:
    h, obs = history()
    key = h.add_pending(ME, "hi")
    assert h.receive(msg("m1", "hi")) is None
    assert states(h) == [("hi", SendState.SENT)]
    h.acknowledge(key, msg("m1", "hi"))
    assert len(h) == 1 and h.entry(key).state is SendState.SENT  # type: ignore[union-attr]
    obs.check()


def test_two_identical_texts_each_end_sent_once_whatever_the_order() -> None:
    h, obs = history()
    k1, k2 = h.add_pending(ME, "same"), h.add_pending(ME, "same")
    h.acknowledge(k2, msg("m2", "same"))  # the second ack overtook everything
    h.receive(msg("m1", "same"))
    h.receive(msg("m2", "same"))
    h.acknowledge(k1, msg("m1", "same"))
    assert states(h) == [("same", SendState.SENT)] * 2
    assert {h.entry(k1).message_id, h.entry(k2).message_id} == {"m1", "m2"}  # type: ignore[union-attr]
    obs.check()


def test_a_text_the_server_changed_is_still_listed_once() -> None:
    h, obs = history()
    key = h.add_pending(ME, "tab\there")
    h.receive(msg("m1", "tab here"))  # the server cleaned it: no match, listed on its own
    h.acknowledge(key, msg("m1", "tab here"))  # the ack says it was ours
    assert states(h) == [("tab here", SendState.SENT)]
    obs.check()


def test_failed_send_says_why_and_retry_sends_the_same_row_again() -> None:
    h, obs = history()
    key = h.add_pending(ME, "are you there?")
    h.fail(key, "Not connected to the meeting.")
    entry = h.entry(key)
    assert entry is not None and entry.state is SendState.FAILED
    assert entry.error == "Not connected to the meeting."
    assert h.retry(key) == "are you there?"
    assert states(h) == [("are you there?", SendState.PENDING)]
    h.acknowledge(key, msg("m9", "are you there?"))
    assert states(h) == [("are you there?", SendState.SENT)]
    with pytest.raises(KeyError):
        h.retry(key)  # only failed messages can be retried
    obs.check()


def test_a_timed_out_message_the_server_did_get_turns_sent_when_its_broadcast_arrives() -> None:
    h, _ = history()
    key = h.add_pending(ME, "slow")
    h.fail(key, "The server did not answer in time.")
    h.receive(msg("m1", "slow"))
    assert states(h) == [("slow", SendState.SENT)]
    h.fail(key, "late failure")  # a late failure cannot undo a delivery
    assert states(h) == [("slow", SendState.SENT)]


def test_discard_removes_only_failed_messages() -> None:
    h, obs = history()
    sent = h.add_pending(ME, "kept")
    h.acknowledge(sent, msg("m1", "kept"))
    bad = h.add_pending(ME, "dropped")
    h.fail(bad, "offline")
    h.discard(sent)
    h.discard(bad)
    assert [e.text for e in h] == ["kept"]
    assert h.row_of(sent) == 0 and h.has_message("m1")
    obs.check()


def test_messages_are_keyed_by_id_so_replayed_history_lists_nothing_twice() -> None:
    h, obs = history()
    assert h.receive(msg("b1", "one", BOB)) is not None
    assert h.receive(msg("b1", "one", BOB)) is None
    assert h.receive_history([msg("b1", "one", BOB), msg("b2", "two", BOB)]) == 1
    assert [e.text for e in h] == ["one", "two"]
    assert not h[0].own
    obs.check()


def test_text_stays_exactly_as_typed_markup_included() -> None:
    h, _ = history()
    h.receive(msg("x", "<b>bold</b> & <script>alert(1)</script>", BOB))
    assert h[0].text == "<b>bold</b> & <script>alert(1)</script>"


def test_outgoing_text_is_cleaned_like_the_server_does_and_checked() -> None:
    assert clean_outgoing("\r\nline one\r\nline two  \n\n") == "line one\nline two"
    assert clean_outgoing("  indented") == "  indented"
    assert clean_outgoing("bell\x07") == "bell"
    with pytest.raises(ChatInputError):
        clean_outgoing(" \n\t ")
    with pytest.raises(ChatInputError, match=str(MAX_CHAT_LENGTH)):
        clean_outgoing("x" * (MAX_CHAT_LENGTH + 1))


def test_unread_counts_others_messages_while_not_reading_and_clears_on_reading() -> None:
    u = UnreadCounter()
    assert u.message_arrived(own=False) and u.message_arrived(own=False)
    assert not u.message_arrived(own=True)
    assert u.count == 2
    assert u.set_reading(True) and u.count == 0
    assert not u.message_arrived(own=False)  # seen as it arrives
    assert not u.set_reading(False)
    assert u.message_arrived(own=False) and u.count == 1


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_order_of_acks_broadcasts_and_failures_lists_each_message_once(data: Any) -> None:
    """Own messages (often with equal texts) whose acks, room broadcasts and late
    failures arrive in any order end up listed once each, all sent, with their ids."""
    texts = data.draw(st.lists(st.sampled_from(["a", "b"]), min_size=1, max_size=6))
    h, obs = history()
    h.receive(msg("other", "a", BOB))  # someone else's message with the same text
    keys = [h.add_pending(ME, t) for t in texts]
    events = [("ack", i) for i in range(len(texts))] + [("cast", i) for i in range(len(texts))]
    events += [("fail", i) for i in data.draw(st.sets(st.integers(0, len(texts) - 1)))]
    for kind, i in data.draw(st.permutations(events)):
        m = msg(f"m{i}", texts[i])
        if kind == "ack":
            h.acknowledge(keys[i], m)
        elif kind == "cast":
            h.receive(m)
        else:
            h.fail(keys[i], "timeout")
        obs.check()
    own = [e for e in h if e.own]
    assert len(h) == len(texts) + 1
    assert all(e.state is SendState.SENT for e in own)
    assert sorted(e.message_id or "" for e in own) == sorted(f"m{i}" for i in range(len(texts)))
    assert sorted(e.text for e in own) == sorted(texts)
