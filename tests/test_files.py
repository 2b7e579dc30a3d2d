"""Tests of crdt_sync.doc.files: .ydoc export, import that merges, and refusing bad files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from crdt_sync.doc import InvalidUpdate, Room, export_file, import_file


def filled_room() -> Room:
    room = Room("plans")
    room["level"] = 3
    room["when"] = dt.date(2024, 5, 1)
    room.text("notes").update("draft")
    room.counter("clicks").increment(2)
    room.list("todo").append("milk")
    room.set("tags").add("red")
    room.table("tasks").add_row({"done": False}, row_id="t1")
    return room


def test_export_import_round_trip(tmp_path: Path) -> None:
    room = filled_room()
    path = export_file(room, tmp_path / "plans.ydoc")
    assert path == tmp_path / "plans.ydoc"
    assert [p.name for p in tmp_path.iterdir()] == ["plans.ydoc"]  # no temp file left
    copy = Room("copy")
    assert import_file(path, into=copy) is True
    assert copy.snapshot() == {"level": 3, "when": dt.date(2024, 5, 1)}
    assert str(copy.text("notes")) == "draft"
    assert copy.counter("clicks").value == 2
    assert copy.list("todo").to_list() == ["milk"]
    assert list(copy.set("tags")) == ["red"]
    assert copy.table("tasks").rows() == {"t1": {"done": False}}


def test_the_file_is_a_plain_yjs_update(tmp_path: Path) -> None:
    from pycrdt import Doc, Map

    room = filled_room()
    path = export_file(room, tmp_path / "plans.ydoc")
    doc: Doc[object] = Doc()
    doc.apply_update(path.read_bytes())
    assert doc.get("registers", type=Map).to_py()["level"] == 3.0


def test_import_merges_and_keeps_changes_made_since_the_export(tmp_path: Path) -> None:
    room = filled_room()
    path = export_file(room, tmp_path / "plans.ydoc")

    offline = Room("plans")
    import_file(path, into=offline)
    offline["level"] = 4  # edited offline
    offline.text("notes").update("draft, offline part")
    offline.counter("clicks").increment()
    export_file(offline, path)

    room["other"] = "changed online meanwhile"
    room.text("notes").update("online: draft")
    room.counter("clicks").increment(10)
    room.list("todo").append("eggs")

    import_file(path, into=room, origin="upload")
    assert room["level"] == 4
    assert room["other"] == "changed online meanwhile"
    assert str(room.text("notes")) == "online: draft, offline part"
    assert room.counter("clicks").value == 13
    assert room.list("todo").to_list() == ["milk", "eggs"]


def test_importing_an_old_export_changes_nothing(tmp_path: Path) -> None:
    room = filled_room()
    path = export_file(room, tmp_path / "plans.ydoc")
    room["level"] = 5
    room.text("notes").update("newer")
    before = room.export()
    import_file(path, into=room)
    assert room["level"] == 5
    assert str(room.text("notes")) == "newer"
    assert room.export() == before


@pytest.mark.parametrize(
    "content",
    [b"", b"not a ydoc at all", b"\x01\x02\x03", b"\x05" + b"\xff" * 100],
    ids=["empty", "text", "short", "huge-count"],
)
def test_a_corrupt_file_is_refused_naming_the_file(tmp_path: Path, content: bytes) -> None:
    room = filled_room()
    before = room.export()
    path = tmp_path / "broken.ydoc"
    path.write_bytes(content)
    with pytest.raises(InvalidUpdate) as info:
        import_file(path, into=room)
    assert str(info.value).startswith(
        f"invalid Yjs update for room 'plans': {path} is not a Yjs document: "
    )
    assert info.value.room == "plans"
    assert room.export() == before


def test_a_truncated_export_is_refused(tmp_path: Path) -> None:
    room = filled_room()
    data = room.export()
    path = tmp_path / "cut.ydoc"
    path.write_bytes(data[: len(data) // 2])
    target = Room("plans")
    target["mine"] = 1
    before = target.export()
    with pytest.raises(InvalidUpdate, match=r"cut\.ydoc is not a Yjs document"):
        import_file(path, into=target)
    assert target.export() == before


def test_export_replaces_an_existing_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "plans.ydoc"
    path.write_bytes(b"x" * 100_000)
    room = Room("plans")
    room["a"] = 1
    export_file(room, path)
    assert path.read_bytes() == room.export()


def test_a_missing_file_is_a_file_not_found_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        import_file(tmp_path / "nope.ydoc", into=Room("plans"))
