"""The roster: who is listed, in which order, and that its change reports add up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from conference_gui.domain.meeting import JoinAck, Participant
from conference_gui.domain.participants import ParticipantRoster
from tests.meeting.shadow import ShadowObserver

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def person(
    pid: str, name: str, *, host: bool = False, hand: bool = False, at: int | None = None
) -> Participant:
    return Participant(
        pid,
        name,
        "host" if host else "participant",
        hand,
        T0 + timedelta(seconds=at) if at is not None else None,
    )


def roster() -> tuple[ParticipantRoster, ShadowObserver]:
    r = ParticipantRoster(clock=lambda: T0)
    obs = ShadowObserver(r)
    r.set_observer(obs)
    return r, obs


def names(r: ParticipantRoster) -> list[str]:
    return [p.name for p in r]


def test_raised_hands_first_by_raise_time_then_host_then_names() -> None:
    r, obs = roster()
    r.reset(
        [
            person("1", "zoe"),
            person("2", "Ann", host=True),
            person("3", "bob"),
            person("4", "Carl", hand=True, at=30),
            person("5", "Dora", hand=True, at=10),
        ]
    )
    assert names(r) == ["Dora", "Carl", "Ann", "bob", "zoe"]
    obs.check()


def test_a_hand_going_up_moves_the_person_behind_earlier_hands_and_back_down() -> None:
    r, obs = roster()
    r.reset([person("h", "Host", host=True), person("a", "Amy"), person("b", "Ben")])
    r.upsert(person("b", "Ben", hand=True, at=5))
    assert names(r) == ["Ben", "Host", "Amy"]
    r.upsert(person("a", "Amy", hand=True, at=9))
    assert names(r) == ["Ben", "Amy", "Host"]
    r.upsert(person("b", "Ben"))  # lowered
    assert names(r) == ["Amy", "Host", "Ben"]
    assert r.get("b") is not None and r.get("b").hand_raised_at is None  # type: ignore[union-attr]
    assert [p.name for p in r.raised_hands()] == ["Amy"]
    obs.check()
    assert any(line.startswith("move") for line in obs.log)


def test_a_hand_without_a_time_is_stamped_once_and_keeps_its_place() -> None:
    clock = iter([T0 + timedelta(seconds=1), T0 + timedelta(seconds=2)])
    r = ParticipantRoster(clock=lambda: next(clock))
    r.reset([person("a", "Amy"), person("b", "Ben")])
    r.upsert(person("b", "Ben", hand=True))  # stamped at +1
    r.upsert(person("a", "Amy", hand=True))  # stamped at +2
    r.upsert(person("b", "Ben renamed", hand=True))  # no time again: keeps +1
    assert names(r) == ["Ben renamed", "Amy"]
    assert r.get("b").hand_raised_at == T0 + timedelta(seconds=1)  # type: ignore[union-attr]


def test_keyed_by_id_repeated_joins_list_once_and_unknown_leaves_are_ignored() -> None:
    r, obs = roster()
    assert r.upsert(person("a", "Amy")) is None
    assert r.upsert(person("a", "Amy")) == person("a", "Amy")
    assert len(r) == 1
    assert r.remove("nobody") is None
    assert r.remove("a") == person("a", "Amy")
    assert len(r) == 0 and "a" not in r
    obs.check()


def test_reset_from_an_ack_drops_ghosts() -> None:
    r, obs = roster()
    r.reset([person("a", "Amy"), person("g", "Ghost")])
    r.reset([person("a", "Amy"), person("c", "Cleo")])
    assert names(r) == ["Amy", "Cleo"] and "g" not in r
    obs.check()


def test_join_ack_parses_participants_hand_time_and_optional_chat() -> None:
    ack = JoinAck.from_wire(
        {
            "self": {"id": "a", "name": "Amy", "role": "host", "handRaised": False},
            "participants": [
                {
                    "id": "b",
                    "name": "Ben",
                    "role": "participant",
                    "handRaised": True,
                    "handRaisedAt": "2026-03-01T09:00:05Z",
                }
            ],
            "resourceRevision": 0,
            "polls": [],
        }
    )
    assert ack.me.is_host and ack.chat == ()
    assert ack.participants[0].hand_raised_at == T0 + timedelta(seconds=5)


ops = st.lists(
    st.tuples(
        st.sampled_from(["up", "rm", "reset"]),
        st.integers(0, 6),  # who
        st.booleans(),  # hand
        st.integers(0, 50),  # raise time
        st.sampled_from(["ann", "Bob", "cid", "Ann", "bob"]),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(ops)
def test_any_sequence_keeps_order_and_reports_changes_exactly(sequence: list[tuple]) -> None:  # type: ignore[type-arg]
    r, obs = roster()
    for op, who, hand, at, name in sequence:
        pid = f"p{who}"
        if op == "up":
            r.upsert(person(pid, name, host=who == 0, hand=hand, at=at if hand else None))
        elif op == "rm":
            r.remove(pid)
        else:
            r.reset([person(pid, name, hand=hand, at=at)])
        obs.check()
        keys = [
            (not p.hand_raised, p.hand_raised_at or T0, not p.is_host, p.name.casefold()) for p in r
        ]
        assert keys == sorted(keys)
        assert len({p.id for p in r}) == len(r)
