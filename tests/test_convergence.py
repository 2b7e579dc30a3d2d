"""Property test: replicas converge whatever the delivery order, and keep what must survive.

Three replicas make random changes of every kind. Every update a replica makes is sent to
the two others as a message; messages arrive in random order, some twice, some late (all
eventually). No state-vector resync is used: ``Room.merge`` alone must cope. Then:

- all replicas are equal (same state, same registers, texts, lists, sets, tables);
- nothing that survives by design is lost: counter sums are exact, set elements nobody
  removed are present, every replica's writes to its own keys are there, and every
  insert into an insert-only text or list is there exactly once.
"""

from __future__ import annotations

from collections import Counter as Multiset
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from replicas import missing

from crdt_sync.doc import KindMismatch, Room, RoomEvent
from crdt_sync.doc.room import REMOTE

N = 3
EMPTY = b"\x00\x00"


def assert_converged(a: Room, b: Room) -> None:
    """Neither has a struct the other lacks, and both deleted the same ones.

    (``update_since`` equals ``b"\\x00\\x00"`` only while nothing was ever deleted: like
    Yjs, it always carries the whole delete set.)
    """
    ab = missing(a.update_since(b.state_vector()))
    ba = missing(b.update_since(a.state_vector()))
    assert ab[0] == 0 and ba[0] == 0
    assert ab == ba


@dataclass
class World:
    rooms: list[Room]
    inbox: list[list[bytes]] = field(default_factory=lambda: [[] for _ in range(N)])
    # What must survive:
    counted: int = 0
    own: dict[str, Any] = field(default_factory=dict)  # key only its replica writes
    set_added: set[str] = field(default_factory=set)
    set_removed: set[str] = field(default_factory=set)
    inserted: Multiset[str] = field(default_factory=Multiset)  # insert-only text tokens
    appended: Multiset[int] = field(default_factory=Multiset)  # insert-only list items
    cells: dict[tuple[str, str], Any] = field(default_factory=dict)  # cell only one writes
    seq: int = 0

    def send(self, sender: int, event: RoomEvent) -> None:
        if event.origin == REMOTE:
            return  # only relay what the replica itself made
        for dst in range(N):
            if dst != sender:
                self.inbox[dst].append(event.update)

    def next(self) -> int:
        self.seq += 1
        return self.seq


OPS = [
    "own_register",
    "shared_register",
    "delete_register",
    "counter",
    "insert_only_text",
    "edit_text",
    "append_only_list",
    "edit_list",
    "set_add",
    "set_discard",
    "table_cell",
    "table_shared",
    "kind_clash",
    "undo",
]


def apply_op(world: World, r: int, op: str, data: st.DataObject) -> None:
    room = world.rooms[r]
    n = world.next()
    if op == "own_register":
        key = f"own{r}-{data.draw(st.integers(0, 3))}"
        value = data.draw(
            st.one_of(st.integers(-(2**70), 2**70), st.text(max_size=5), st.tuples(st.booleans()))
        )
        room[key] = value
        world.own[key] = value
    elif op == "shared_register":
        room["shared"] = n
    elif op == "delete_register":
        if "shared" in room:
            del room["shared"]
    elif op == "counter":
        amount = data.draw(st.integers(-5, 5))
        room.counter("count").increment(amount)
        world.counted += amount
    elif op == "insert_only_text":
        text = room.text("log")
        token = f"<{r}.{n}>"
        current = str(text)
        boundaries = [i for i, ch in enumerate(current) if ch == "<"] + [len(current)]
        text.insert(data.draw(st.sampled_from(boundaries)), token)  # never inside a token
        world.inserted[token] += 1
    elif op == "edit_text":
        text = room.text("doc")
        current = str(text)
        start = data.draw(st.integers(0, len(current)))
        stop = data.draw(st.integers(start, min(len(current), start + 4)))
        text.update(
            current[:start] + data.draw(st.sampled_from(["", "x", "yz", "😀"])) + current[stop:]
        )
    elif op == "append_only_list":
        items = room.list("queue")
        if data.draw(st.booleans()):
            items.append(n)
        else:
            items.insert(data.draw(st.integers(0, len(items))), n)
        world.appended[n] += 1
    elif op == "edit_list":
        items = room.list("items")
        if len(items) and data.draw(st.booleans()):
            del items[data.draw(st.integers(0, len(items) - 1))]
        else:
            items.append(n)
    elif op == "set_add":
        element = data.draw(st.sampled_from("abcdef"))
        room.set("tags").add(element)
        world.set_added.add(element)
    elif op == "set_discard":
        element = data.draw(st.sampled_from("abc"))  # d, e, f are never removed
        room.set("tags").discard(element)
        world.set_removed.add(element)
    elif op == "table_cell":
        row = data.draw(st.sampled_from(["r1", "r2"]))
        table = room.table("grid")
        if row not in table:
            table.add_row({}, row_id=row)
        table.set_cell(row, f"col{r}", n)
        world.cells[(row, f"col{r}")] = n
    elif op == "table_shared":
        table = room.table("grid")
        if "r3" not in table:
            table.add_row({}, row_id="r3")
        table.set_cell("r3", "shared", n)
    elif op == "kind_clash":
        try:
            if data.draw(st.booleans()):
                room["clash"] = n
            else:
                room.text("clash").insert(0, "t")
        except KindMismatch:
            pass
    elif op == "undo":
        # Only origin "u" changes, on keys no invariant relies on.
        history = room.undo_manager("u")
        if data.draw(st.booleans()):
            with room.transaction(origin="u"):
                room["undoable"] = n
                room.text("utext").insert(0, "u")
        else:
            history.undo()


def deliver(world: World, dst: int, data: st.DataObject, keep: bool) -> None:
    inbox = world.inbox[dst]
    if not inbox:
        return
    i = data.draw(st.integers(0, len(inbox) - 1))
    update = inbox[i] if keep else inbox.pop(i)  # keep: it will arrive again later
    world.rooms[dst].merge(update)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_replicas_converge_and_keep_what_must_survive(data: st.DataObject) -> None:
    world = World(rooms=[Room("r", client_id=100 + i) for i in range(N)])
    for r, room in enumerate(world.rooms):
        room.observe(lambda event, r=r: world.send(r, event))

    steps = data.draw(st.integers(10, 80))
    for _ in range(steps):
        action = data.draw(st.sampled_from(["op", "op", "deliver", "duplicate"]))
        r = data.draw(st.integers(0, N - 1))
        if action == "op":
            apply_op(world, r, data.draw(st.sampled_from(OPS)), data)
        else:
            deliver(world, r, data, keep=action == "duplicate")
    # Everything still in flight arrives, in random order.
    while any(world.inbox):
        r = data.draw(st.sampled_from([i for i in range(N) if world.inbox[i]]))
        deliver(world, r, data, keep=False)

    a, b, c = world.rooms
    for other in (b, c):
        assert_converged(a, other)
    for room in world.rooms:
        assert room.pending == 0
        assert room.kinds() == a.kinds()
        assert room.snapshot() == a.snapshot()
        kinds = room.kinds()
        for key, kind in kinds.items():
            if kind == "text":
                assert str(room.text(key)) == str(a.text(key))
            elif kind == "list":
                assert room.list(key).to_list() == a.list(key).to_list()
            elif kind == "set":
                assert room.set(key).to_list() == a.set(key).to_list()
            elif kind == "table":
                assert room.table(key).rows() == a.table(key).rows()
            elif kind == "counter":
                assert room.counter(key).value == a.counter(key).value

        # Nothing that survives by design is lost.
        if "count" in kinds:
            assert room.counter("count").value == world.counted
        for key, value in world.own.items():
            assert room[key] == value
        if "tags" in kinds:
            tags = set(room.set("tags"))
            assert world.set_added - world.set_removed <= tags
            assert tags <= world.set_added
        if "log" in kinds:
            log = str(room.text("log"))
            for token in world.inserted:
                assert log.count(token) == 1
            assert len(log) == sum(len(t) for t in world.inserted)
        if world.appended:
            assert Multiset(room.list("queue").to_list()) == world.appended
        for (row, column), value in world.cells.items():
            assert room.table("grid").get_cell(row, column) == value
