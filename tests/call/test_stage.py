"""The stage's rules without Qt: which tiles, in what order, changed how, laid out how."""

from __future__ import annotations

from conference_gui.domain.call import MediaState
from conference_gui.domain.meeting import Participant
from conference_gui.domain.stage import CAMERA, SCREEN, Stage, grid_cells, initials, tiles_for

NOTHING = MediaState()


def person(pid: str, name: str, media: MediaState = NOTHING, hand: bool = False) -> Participant:
    return Participant(pid, name, "participant", hand, None, media)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattr__(self, name: str):  # every RowObserver method, recorded
        return lambda *args: self.calls.append(f"{name}{args}")


def test_you_come_first_and_a_shared_screen_follows_its_sharer() -> None:
    ann, bob = person("a", "Ann"), person("b", "Bob", MediaState(True, True, True))
    tiles = tiles_for([ann, bob], me_id="b")
    assert [(t.participant_id, t.source, t.is_self) for t in tiles] == [
        ("b", CAMERA, True), ("b", SCREEN, True), ("a", CAMERA, False)
    ]
    assert tiles[0].mic_on and tiles[0].camera_on and not tiles[2].camera_on


def test_our_own_tile_shows_what_we_send_before_the_server_echoes_it() -> None:
    ann = person("a", "Ann")  # the server still says: nothing
    [tile] = tiles_for([ann], me_id="a", me_media=MediaState(audio=True, video=False))
    assert tile.mic_on and not tile.camera_on


def test_bob_leaving_removes_one_row_and_carol_joining_inserts_one() -> None:
    stage, rec = Stage(), Recorder()
    stage.show(tiles_for([person("a", "Ann"), person("b", "Bob")], "a"))
    stage.set_observer(rec)
    stage.show(tiles_for([person("a", "Ann")], "a"))
    stage.show(tiles_for([person("a", "Ann"), person("c", "Carol")], "a"))
    assert rec.calls == [
        "rows_about_to_be_removed(1, 1)", "rows_removed()",
        "rows_about_to_be_inserted(1, 1)", "rows_inserted()",
    ]


def test_a_mute_changes_one_row_in_place() -> None:
    stage, rec = Stage(), Recorder()
    stage.show(tiles_for([person("a", "Ann"), person("b", "Bob", MediaState(True))], "a"))
    stage.set_observer(rec)
    stage.show(tiles_for([person("a", "Ann"), person("b", "Bob", MediaState(False))], "a"))
    assert rec.calls == ["rows_changed(1, 1)"]
    assert not stage[1].mic_on


def test_initials_for_camera_off() -> None:
    assert [initials(n) for n in ("Ann Lee", "bob", "  ", "jean-luc picard", "Ö ü")] == [
        "AL", "B", "?", "JP", "ÖÜ"
    ]


def test_grid_cells_keep_the_aspect_ratio_and_fit_the_area() -> None:
    for count in range(1, 13):
        cells = grid_cells(count, 1000, 600)
        assert len(cells) == count
        for c in cells:
            assert abs(c.width / c.height - 16 / 9) < 0.05
            assert c.x >= 0 and c.x + c.width <= 1000 and c.y >= 0 and c.y + c.height <= 600
        # no two tiles overlap
        for i, a in enumerate(cells):
            for b in cells[i + 1:]:
                assert (a.x + a.width <= b.x or b.x + b.width <= a.x
                        or a.y + a.height <= b.y or b.y + b.height <= a.y)
    two = grid_cells(2, 1280, 600)
    assert two[0].y == two[1].y  # side by side in a wide window
    tall = grid_cells(2, 600, 800)
    assert tall[0].x == tall[1].x  # one above the other in a tall one
    assert grid_cells(0, 1000, 600) == []
