"""The resource model over the ledger: Qt's model contract, and one count for
every view."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import QModelIndex

from conference_gui.domain.resources import (
    Person,
    Resource,
    ResourceDeleted,
    ResourceUploaded,
    Snapshot,
)
from conference_gui.models.resource_model import ResourceListModel, ResourceRole

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def res(n: int, by: str = "u1") -> Resource:
    return Resource(
        id=f"r{n}",
        session_id="s",
        name=f"file-{n}.txt",
        size=n * 10,
        content_type="text/plain",
        uploaded_by=Person(by, by.upper()),
        uploaded_at=T0 + timedelta(seconds=n),
    )


def test_model_passes_qtmodeltester_through_inserts_removes_and_resets(qtmodeltester: Any) -> None:
    model = ResourceListModel()
    qtmodeltester.check(model, force_py=True)
    model.ledger.load_snapshot(Snapshot(2, (res(1), res(2))))
    for n in range(3, 8):
        model.ledger.apply(ResourceUploaded(n, res(n)))
    model.ledger.apply(ResourceDeleted(8, "r4"))
    model.ledger.load_snapshot(Snapshot(9, (res(9), res(1))))
    assert [model.index(r).data() for r in range(model.rowCount())] == ["file-9.txt", "file-1.txt"]


def test_count_changed_follows_every_change(qtbot: Any) -> None:
    model = ResourceListModel()
    counts: list[int] = []
    model.count_changed.connect(counts.append)
    model.ledger.load_snapshot(Snapshot(0, ()))
    model.ledger.apply(ResourceUploaded(1, res(1)))
    model.ledger.apply(ResourceUploaded(2, res(2)))
    model.ledger.apply(ResourceUploaded(2, res(2)))  # duplicate: nothing
    model.ledger.apply(ResourceDeleted(3, "r1"))
    assert counts == [0, 1, 2, 1]
    assert model.rowCount() == 1


def test_can_delete_only_for_uploader_or_host() -> None:
    model = ResourceListModel()
    model.ledger.load_snapshot(Snapshot(2, (res(1, by="ann"), res(2, by="bob"))))
    model.set_viewer("bob", is_host=False)
    by_name = {
        model.index(r).data(): model.index(r).data(ResourceRole.CAN_DELETE) for r in range(2)
    }
    assert by_name == {"file-1.txt": False, "file-2.txt": True}
    changed: list[Any] = []
    model.dataChanged.connect(lambda *a: changed.append(a))
    model.set_viewer("bob", is_host=True)
    assert changed, "views are told that permissions changed"
    assert all(model.index(r).data(ResourceRole.CAN_DELETE) for r in range(2))


def test_roles_expose_the_resource() -> None:
    model = ResourceListModel()
    model.ledger.load_snapshot(Snapshot(1, (res(1),)))
    idx = model.index(0)
    assert idx.data(ResourceRole.ID) == "r1"
    assert idx.data(ResourceRole.SIZE) == 10
    assert idx.data(ResourceRole.UPLOADER_NAME) == "U1"
    assert isinstance(idx.data(ResourceRole.RESOURCE), Resource)
    assert model.rowCount(idx) == 0  # a list has no children
    assert model.data(QModelIndex()) is None
    assert b"can_delete" in model.roleNames().values()
