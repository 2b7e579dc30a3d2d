"""Tests of crdt_sync.doc.update_format: real pycrdt updates, truncations, noise, memory."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import textwrap

import pytest
from pycrdt import (
    Array,
    Doc,
    Map,
    Text,
    XmlElement,
    XmlFragment,
    XmlText,
    get_state,
    merge_updates,
)

from crdt_sync.doc.update_format import (
    DEFAULT_MAX_SIZE,
    MAX_ANY_DEPTH,
    UpdateFormatError,
    UpdateInfo,
    decode_state_vector,
    encode_state_vector,
    read_update,
)

BLOB_SEED = 20240611
BLOB_COUNT = 2000
A, B, C = 1001, 2_000_002, 2**53 - 1  # one-, three- and eight-byte client ids


def random_blobs() -> list[bytes]:
    """Seeded noise: BLOB_COUNT blobs of 1-300 random bytes (the subprocesses use the same)."""
    rng = random.Random(BLOB_SEED)
    return [rng.randbytes(rng.randint(1, 300)) for _ in range(BLOB_COUNT)]


def end_clocks(update: bytes) -> dict[int, int]:
    """Client -> clock after the update, as pycrdt computes it."""
    return decode_state_vector(get_state(update))


def recording_doc(client_id: int) -> tuple[Doc, list[bytes]]:
    """A doc that appends the update of each of its transactions to the returned list."""
    doc: Doc = Doc(client_id=client_id)
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    return doc, updates


def edit_everything(doc: Doc, rng: random.Random, steps: int) -> None:
    """Random edits of a map, an array, a text and an XML fragment, one transaction each."""
    m, a, t = doc.get("m", type=Map), doc.get("a", type=Array), doc.get("t", type=Text)
    x = doc.get("x", type=XmlFragment)
    values: list[object] = [1, -7, 2**40, 1.5, None, True, "é🌍", b"\x00\xff", {"k": [1, None]}]
    for step in range(steps):
        op = rng.randrange(9)
        if op == 0:
            m[f"k{rng.randrange(20)}"] = rng.choice(values)
        elif op == 1 and len(m):
            del m[rng.choice(sorted(m.keys()))]  # sorted: a Yjs map has no stable order
        elif op == 2:
            a.insert(rng.randint(0, len(a)), rng.choice(values))
        elif op == 3 and len(a):
            del a[rng.randrange(len(a))]
        elif op == 4:
            t.insert(rng.randint(0, len(t)), rng.choice(["a", "héllo ", "🌍", "日本語"]))
        elif op == 5 and len(t) > 2:
            start = rng.randrange(len(t) - 1)
            if rng.random() < 0.5:
                del t[start : start + 2]
            else:
                t.format(start, start + 2, {"bold": True})
        elif op == 6:
            m[f"nested{step}"] = Map({"list": Array([1, Text("in")]), "s": "x"})
        elif op == 7:
            x.children.append(XmlElement("p", {"class": f"c{step}"}, [XmlText("hi")]))
        else:
            t.insert_embed(rng.randint(0, len(t)), {"image": "x.png"})


def real_updates() -> dict[str, bytes]:
    """Updates of many shapes made by pycrdt."""
    shapes: dict[str, bytes] = {"empty": Doc().get_update()}

    doc, txns = recording_doc(A)
    doc["m"] = m = Map()
    m.update({"i": 1, "neg": -5, "big": 2**60, "f": 0.1, "none": None, "yes": True})
    m.update({"s": "héllo wörld 🌍", "bytes": bytes(range(256)), "deep": {"a": [[{"b": [1]}]]}})
    m["nested"] = Map({"arr": Array(["x", Map({"t": Text("deep text")})])})
    del m["i"]
    doc["x"] = x = XmlFragment()
    x.children.append(XmlElement("div", {"id": "1"}, [XmlElement("b"), XmlText("bold")]))
    x.children.append(XmlText("tail"))
    doc["t"] = t = Text("hello world")
    t.format(0, 5, {"bold": True, "color": "#f00"})
    t.insert_embed(3, {"img": "a.png"})
    del t[1:4]
    doc["sub"] = Map({"doc": Doc()})
    shapes["one client, all kinds"] = doc.get_update()
    for i, txn in enumerate(txns):
        shapes[f"transaction {i}"] = txn

    big = Doc(client_id=B)
    edit_everything(big, random.Random(1), 1500)
    shapes["big doc"] = big.get_update()

    docs = [Doc(client_id=c) for c in (A, B, C)]
    for i, d in enumerate(docs):
        edit_everything(d, random.Random(10 + i), 60)
    merged = merge_updates(*(d.get_update() for d in docs))
    for d in docs:
        d.apply_update(merged)
        edit_everything(d, random.Random(20), 30)
    shapes["merge of three clients"] = merge_updates(*(d.get_update() for d in docs))
    shapes["diff against a peer"] = docs[0].get_update(docs[1].get_state())

    nested = Doc(client_id=A)
    nested["a"] = arr = Array([Array([1, 2]), Map({"k": "v"}), Text("t")])
    del arr[0:2]  # deleting types leaves GC and Deleted structs
    shapes["deleted types"] = nested.get_update()
    return shapes


REAL = real_updates()


@pytest.mark.parametrize("name", list(REAL))
def test_real_updates_are_accepted_with_the_clients_pycrdt_sees(name: str) -> None:
    update = REAL[name]
    info = read_update(update)
    assert info.size == len(update)
    assert set(info.starts) == set(info.struct_counts)
    assert all(count >= 1 for count in info.struct_counts.values())
    # pycrdt's get_state(update) only counts clients whose structs start at clock 0
    # (the state an empty doc reaches), like Yjs encodeStateVectorFromUpdate.
    ends = end_clocks(update)
    assert set(ends) == {client for client, start in info.starts.items() if start == 0}
    assert all(clock > 0 for clock in ends.values())


def test_empty_update() -> None:
    assert read_update(b"\x00\x00") == UpdateInfo({}, {}, frozenset(), 2)


def test_each_transaction_starts_where_the_previous_ones_ended() -> None:
    doc, txns = recording_doc(C)
    edit_everything(doc, random.Random(3), 200)
    txns = [txn for txn in txns if txn != b"\x00\x00"]  # creating a root type writes nothing
    assert len(txns) > 100
    so_far = b"\x00\x00"
    for txn in txns:
        info = read_update(txn)
        if info.starts:
            assert info.starts == {C: end_clocks(so_far).get(C, 0)}
        else:  # a deletion only: structs of no client, a delete set
            assert info.delete_set_clients == {C}
        so_far = merge_updates(so_far, txn)
        assert read_update(so_far).starts == {C: 0}


def test_update_ahead_of_the_doc_reports_its_start() -> None:
    doc, txns = recording_doc(B)
    doc["t"] = t = Text()
    for word in ("one ", "two ", "three "):
        t += word
    first, second, third = [txn for txn in txns if txn != b"\x00\x00"]
    assert read_update(third).starts == {B: end_clocks(merge_updates(first, second))[B]}
    with_gap = merge_updates(first, third)  # yrs fills the hole with a Skip struct
    info = read_update(with_gap)
    assert info.starts == {B: 0}
    assert info.struct_counts == {B: 3}
    assert b"\x0a\x04" in with_gap  # the Skip, of the 4 clocks of "two "


def test_diff_updates_start_at_the_state_vector_asked_for() -> None:
    doc = Doc(client_id=A)
    edit_everything(doc, random.Random(5), 100)
    ends = end_clocks(doc.get_update())
    for clock in (0, 1, ends[A] // 2, ends[A] - 1):
        diff = doc.get_update(encode_state_vector({A: clock}))
        assert read_update(diff).starts == {A: clock}
    assert read_update(doc.get_update(doc.get_state())).starts == {}


def test_state_vector_round_trip() -> None:
    rng = random.Random(7)
    for _ in range(200):
        sv = {rng.randrange(2**53): rng.randrange(2**32) for _ in range(rng.randrange(6))}
        assert decode_state_vector(encode_state_vector(sv)) == sv
    assert encode_state_vector({}) == b"\x00"
    assert encode_state_vector({1: 2, 300: 5}) == b"\x02\xac\x02\x05\x01\x02"  # Yjs order
    for update in REAL.values():
        assert decode_state_vector(get_state(update)) == end_clocks(update)


def test_state_vector_against_pycrdt() -> None:
    docs = [Doc(client_id=c) for c in (A, B, C)]
    for i, d in enumerate(docs):
        edit_everything(d, random.Random(i), 40)
    for d in docs[1:]:
        docs[0].apply_update(d.get_update())
    full = docs[0]
    sv = decode_state_vector(full.get_state())
    assert sv == end_clocks(full.get_update())
    assert set(sv) == {A, B, C}
    single = Doc(client_id=B)
    edit_everything(single, random.Random(9), 30)
    assert encode_state_vector(decode_state_vector(single.get_state())) == single.get_state()
    # pycrdt reads our bytes: a diff against our encoding equals one against its own.
    peer = docs[1]
    ours = encode_state_vector(decode_state_vector(peer.get_state()))
    assert full.get_update(ours) == full.get_update(peer.get_state())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "truncated: state vector size runs past the end of the 0 bytes at byte 0"),
        (b"\x01\x05", "state vector size 1 exceeds the 1 bytes remaining at byte 0"),
        (b"\x01\x05\x85", "truncated: clock runs past the end of the 3 bytes at byte 2"),
        (b"\x00\x00", "1 trailing bytes after the state vector at byte 1"),
        (b"\x02\x05\x01\x05\x02", "client 5 is listed twice at byte 3"),
        (b"\x09\x05\x01", "state vector size 9 exceeds the 2 bytes remaining at byte 0"),
        (b"\x01\x05\x80\x80\x80\x80\x10", "clock 4294967296 exceeds the maximum"),
    ],
)
def test_bad_state_vectors(data: bytes, message: str) -> None:
    with pytest.raises(UpdateFormatError, match=message):
        decode_state_vector(data)


def test_encode_state_vector_rejects_out_of_range_numbers() -> None:
    for sv in ({-1: 0}, {2**53: 0}, {1: -1}, {1: 2**32}):
        with pytest.raises(ValueError):
            encode_state_vector(sv)


def _item(content: bytes, root: bytes = b"a", info_ref: int = 8) -> bytes:
    """One Item struct in root type `root` (no origins), with raw `content` bytes."""
    return bytes([info_ref, 1, len(root)]) + root + content


def _update(*structs: bytes, client: bytes = b"\x05", tail: bytes = b"\x00") -> bytes:
    return bytes([1, len(structs)]) + client + b"\x00" + b"".join(structs) + tail


NESTED_ANY = b"\x75\x01" * (MAX_ANY_DEPTH + 1) + b"\x7e"
MALFORMED = [
    (b"", "empty update"),
    (b"\x05", "client count 5 exceeds the 0 bytes remaining at byte 0"),
    (b"\x01\x7f\x05\x00", "struct count 127 exceeds the 2 bytes remaining at byte 1"),
    (b"\x00\x00\x00", "1 trailing bytes after the delete set at byte 2"),
    (b"\x00\x01\x05\x01\x00", "delete range count 1 exceeds the 1 bytes remaining at byte 3"),
    (b"\x00\x01\x05\x01\x00\x80", "truncated: delete length runs past the end"),
    (b"\x00\x01\x05\x01\xff\xff\xff\xff\x0f\x01", "delete range ends past clock"),
    (b"\x00\x02\x05\x00\x05\x00", "client 5 is listed twice in the delete set at byte 4"),
    (_update(_item(b"\x01\x7e")) + _update(_item(b"\x01\x7e"))[1:], "trailing bytes"),
    (b"\x02" + _update(_item(b"\x01\x7e"))[1:-1] * 2 + b"\x00", "client 5 is listed twice"),
    (_update(b"\x0b\x01"), "unknown content ref 11 (info 0x0b) at byte 4"),
    (_update(b"\x18\x01"), "unknown content ref 24"),
    (_update(b"\x80\x03"), "GC/Skip struct with flag bits (info 0x80) at byte 4"),
    (_update(_item(b"\x01\x6f")), "unknown any type 111 at byte 9"),
    (_update(_item(b"\x01" + NESTED_ANY)), f"any value nested deeper than {MAX_ANY_DEPTH}"),
    (_update(_item(b"\x01\x77\x50abc")), "any string of 80 bytes exceeds the 4 remaining"),
    (_update(_item(b"\x01\x77\x02\xc3\x28")), "any string is not valid UTF-8 at byte 11"),
    (_update(_item(b"\x01\x7e", root=b"\xff")), "root type name is not valid UTF-8 at byte 7"),
    (_update(_item(b"\x01\x76\xff\x01")), "any object size 255 exceeds"),
    (_update(_item(b"\x01\x7d" + b"\x80" * 12)), "varint longer than 10 bytes"),
    (_update(_item(b"\x07", info_ref=7)), "unknown type ref 7"),
    (_update(_item(b"\x83\x00", info_ref=7)), "unknown type ref 131"),
    (_update(_item(b"\x03", info_ref=7), tail=b""), "truncated: xml node name"),
    (_update(_item(b"\x40", info_ref=3)), "binary length 64 exceeds"),
    (_update(_item(b"\x01\x7e"), client=b"\x80\x80\x80\x80\x80\x80\x80\x10"), "exceeds the max"),
    (_update(_item(b"\x01\x7e"), client=b"\xff" * 11), "client is a varuint longer than 10"),
    (_update(b"\x00\x80\x80\x80\x80\x10"), "GC/Skip length 4294967296 exceeds the maximum"),
]


@pytest.mark.parametrize(("data", "message"), MALFORMED)
def test_malformed_updates_say_what_and_where(data: bytes, message: str) -> None:
    with pytest.raises(UpdateFormatError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_update(data)


def test_hand_made_items_of_every_content_are_accepted() -> None:
    contents = [
        _item(b"\x05", info_ref=1),  # Deleted
        _item(b"\x02\x03\x22x\x22\x09undefined", info_ref=2),  # JSON
        _item(b"\x02\x00\xff", info_ref=3),  # Binary
        _item(b"\x02hi", info_ref=4),  # String
        _item(b"\x02{}", info_ref=5),  # Embed
        _item(b"\x04bold\x04true", info_ref=6),  # Format
        _item(b"\x03\x01p", info_ref=7),  # Type: XmlElement "p"
        _item(b"\x02\x7d\xff\x7f\x74\x01\x00", info_ref=8),  # Any: varint, buffer
        _item(b"\x04guid\x76\x01\x02gc\x78", info_ref=9),  # Doc
        b"\x0a\x07",  # Skip
        b"\x00\x03",  # GC
    ]
    info = read_update(_update(*contents))
    assert info == UpdateInfo({5: 0}, {5: len(contents)}, frozenset(), info.size)


def test_every_truncation_is_rejected() -> None:
    doc = Doc(client_id=B)
    edit_everything(doc, random.Random(11), 25)
    update = doc.get_update()
    assert 400 <= len(update) <= 700, len(update)
    read_update(update)
    for cut in range(len(update)):
        with pytest.raises(UpdateFormatError):
            read_update(update[:cut])


def test_random_blobs_raise_only_update_format_error() -> None:
    accepted = 0
    for blob in random_blobs():
        try:
            read_update(blob)
            accepted += 1
        except UpdateFormatError:
            pass
    assert accepted < BLOB_COUNT // 10


def test_mutated_real_updates_raise_only_update_format_error() -> None:
    rng = random.Random(12)
    bases = list(REAL.values())[1:]
    accepted = 0
    for _ in range(2000):
        data = bytearray(rng.choice(bases))
        for _ in range(rng.randint(1, 3)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            read_update(bytes(data))
            accepted += 1
        except UpdateFormatError:
            pass
    assert 0 < accepted < 2000


def test_oversized_update_is_rejected_naming_size_and_limit() -> None:
    with pytest.raises(UpdateFormatError, match="update of 101 bytes exceeds the limit of 100"):
        read_update(b"\x00" * 101, max_size=100)
    too_big = bytes(DEFAULT_MAX_SIZE + 1)
    with pytest.raises(UpdateFormatError, match=f"{DEFAULT_MAX_SIZE + 1} .* {DEFAULT_MAX_SIZE}"):
        read_update(too_big)


_MEMORY_SCRIPT = """
import json, random, resource
import pycrdt
from crdt_sync.doc.update_format import UpdateFormatError, read_update

GUARDED = {guarded}
rng = random.Random({seed})
blobs = [rng.randbytes(rng.randint(1, 300)) for _ in range({count})]
if GUARDED:  # noise is never accepted: also feed mutations of a real update
    doc = pycrdt.Doc()
    doc["m"] = pycrdt.Map({{"s": "héllo", "b": b"\\x00", "n": {{"k": [1, None]}}}})
    doc["t"] = text = pycrdt.Text("hello world")
    text.format(0, 5, {{"bold": True}})
    del text[2:4]
    real = doc.get_update()
    for _ in range({count}):
        data = bytearray(real)
        for _ in range(rng.randint(1, 3)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        blobs.append(bytes(data))
else:
    blobs = blobs[:{unguarded}]

def peak_mib():
    # VmHWM is this process image's own peak; ru_maxrss would also count what a child
    # inherits from a big parent process at fork time.
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

before = peak_mib()
accepted = applied = 0
for blob in blobs:
    if GUARDED:
        try:
            read_update(blob)
        except UpdateFormatError:
            continue
        accepted += 1
    try:
        pycrdt.Doc().apply_update(blob)
        applied += 1
    except ValueError:
        pass
print(json.dumps({{"before": before, "after": peak_mib(), "accepted": accepted,
                  "applied": applied, "fed": len(blobs)}}))
"""


def _peak_memory(guarded: bool) -> dict[str, float]:
    script = _MEMORY_SCRIPT.format(guarded=guarded, seed=BLOB_SEED, count=BLOB_COUNT, unguarded=500)
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_guard_keeps_pycrdt_memory_flat_on_noise() -> None:
    r = _peak_memory(guarded=True)
    growth = r["after"] - r["before"]
    assert growth < 64, f"peak RSS grew {growth:.1f} MiB: {r}"
    assert r["applied"] > 50, r  # mutated real updates did reach pycrdt


def test_unguarded_decoder_allocates_without_guard() -> None:
    """Why the guard exists: yrs reserves what random bytes declare (pycrdt 0.14 / yrs 0.28)."""
    r = _peak_memory(guarded=False)
    growth = r["after"] - r["before"]
    assert growth > 200, f"peak RSS grew only {growth:.1f} MiB: {r}"
