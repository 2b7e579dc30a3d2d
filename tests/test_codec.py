"""Tests of crdt_sync.doc.codec: round trips keep value and type, also through real pycrdt."""

from __future__ import annotations

import datetime as dt
import enum
import logging
import math
import uuid
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycrdt import Array, Doc, Map

from crdt_sync.doc.codec import TAG, decode, element_key, encode

UTC2 = dt.timezone(dt.timedelta(hours=2))


def same(a: Any, b: Any) -> bool:
    """Equal value and same type, recursively; nan equals nan, -0.0 differs from 0.0."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a):
            return math.isnan(b)
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    if isinstance(a, Decimal):
        return str(a) == str(b)  # keeps Decimal("1.10") apart from Decimal("1.1"), NaN == NaN
    if isinstance(a, (dt.datetime, dt.time)):
        return bool(a.isoformat() == b.isoformat())  # same fields and same offset, not just instant
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def through_doc(value: Any) -> Any:
    """Store encode(value) in a Map, ship the update to a second Doc, read it back, decode."""
    doc: Doc[Any] = Doc()
    doc["m"] = Map()
    doc.get("m", type=Map)["k"] = encode(value, key="k")
    remote: Doc[Any] = Doc()
    remote.apply_update(doc.get_update())
    return decode(remote.get("m", type=Map)["k"])


def assert_round_trip(value: Any) -> None:
    assert same(decode(encode(value)), value), (value, encode(value))
    assert same(through_doc(value), value), (value, encode(value))


VALUES = [
    None,
    True,
    False,
    0,
    -7,
    2**53 - 1,
    2**53,
    -(2**53),
    2**63 - 1,
    2**63,
    -(2**70),
    10**40,
    1.0,
    -0.0,
    0.0,
    1.5,
    -2.25,
    1e300,
    5e-324,
    math.nan,
    math.inf,
    -math.inf,
    "",
    "plain",
    "emoji 🎉 and ünïcode",
    "nul\x00char",
    [],
    {},
    (),
    [1, 2, 3],
    (1, "a", None),
    {"a": 1, "b": [1.0, 2]},
    {TAG: "int", "v": "5"},
    {TAG: {TAG: "x"}},
    dt.datetime(2024, 2, 29, 13, 45, 7, 123456),
    dt.datetime(2024, 2, 29, 13, 45, 7, 5, tzinfo=dt.timezone.utc),
    dt.datetime(1, 1, 1, tzinfo=dt.timezone(-dt.timedelta(hours=5, minutes=30))),
    dt.date(2024, 1, 31),
    dt.time(23, 59, 59, 999999),
    dt.time(8, 30, tzinfo=UTC2),
    dt.timedelta(days=-1, microseconds=5),
    dt.timedelta(0),
    Decimal("1.10"),
    Decimal("NaN"),
    Decimal("-Infinity"),
    Decimal("-0"),
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    b"\x00\xff",
    b"",
    [{"t": (1, [2, (3.0,)], {"d": dt.date(2000, 1, 1)})}],
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_round_trip_every_type(value: Any) -> None:
    assert_round_trip(value)


def test_round_trip_keeps_nested_types() -> None:
    value = [{"t": (1, 2.5, 3.0)}, [4, 5], b"x"]
    back = through_doc(value)
    assert type(back[0]["t"]) is tuple
    assert [type(x) for x in back[0]["t"]] == [int, float, float]
    assert [type(x) for x in back[1]] == [int, int]
    assert type(back[2]) is bytes


def test_special_floats_survive_the_document() -> None:
    assert math.copysign(1.0, through_doc(-0.0)) == -1.0
    assert math.isnan(through_doc(math.nan))
    assert through_doc(-math.inf) == -math.inf
    assert type(through_doc(1.0)) is float
    assert type(through_doc(1)) is int


def test_decimal_and_datetime_details() -> None:
    assert str(through_doc(Decimal("1.10"))) == "1.10"
    assert through_doc(Decimal("NaN")).is_nan()
    aware = through_doc(dt.datetime(2024, 5, 1, 12, tzinfo=UTC2))
    assert aware.utcoffset() == dt.timedelta(hours=2)
    assert through_doc(dt.datetime(2024, 5, 1, 12)).tzinfo is None
    assert through_doc(dt.time(8, 30, tzinfo=UTC2)).utcoffset() == dt.timedelta(hours=2)


def test_stored_form_is_plain_json() -> None:
    assert encode(1) == 1
    assert encode(1.5) == 1.5
    assert encode(1.0) == {TAG: "float", "v": "1.0"}
    assert encode(2**53) == {TAG: "int", "v": str(2**53)}
    assert encode((1,)) == {TAG: "tuple", "v": [1]}
    assert encode({TAG: 1}) == {TAG: "dict", "v": {TAG: 1}}
    assert encode(dt.timedelta(days=-1, microseconds=5)) == {
        TAG: "timedelta",
        "v": [-1, 0, 5],
    }
    assert encode(b"\x00\xff") == {TAG: "bytes", "v": "AP8="}


def test_subclasses_and_numpy_scalars_come_back_as_base_types() -> None:
    class Level(enum.IntEnum):
        HIGH = 3

    class Color(str, enum.Enum):
        RED = "red"

    assert encode(Level.HIGH) == 3 and type(encode(Level.HIGH)) is int
    assert encode(Color.RED) == "red" and type(encode(Color.RED)) is str
    np = pytest.importorskip("numpy")
    assert same(through_doc(np.int64(7)), 7)
    assert same(through_doc(np.float32(0.5)), 0.5)
    assert same(through_doc(np.float64(2.0)), 2.0)
    assert same(through_doc(np.bool_(True)), True)
    assert same(through_doc([np.uint64(2**64 - 1)]), [2**64 - 1])
    with pytest.raises(TypeError, match="ndarray"):
        encode(np.array([1]), key="arr")


def test_js_written_json_decodes_to_natural_python() -> None:
    # What pycrdt returns for {"n": 42, "x": 1.5, "arr": [1, 2], "o": {"a": null}} from JS.
    raw = {"n": 42.0, "x": 1.5, "arr": [1.0, 2.0], "o": {"a": None}}
    assert same(decode(raw), {"n": 42, "x": 1.5, "arr": [1, 2], "o": {"a": None}})
    assert same(decode(bytearray(b"\x01")), b"\x01")  # a Uint8Array
    assert same(decode(1e300), 1e300)
    assert same(decode(float(2**53)), float(2**53))


def test_js_json_through_pycrdt_array() -> None:
    doc: Doc[Any] = Doc()
    doc["a"] = Array()
    doc.get("a", type=Array).extend([42, 1.5, {"k": [0, -3]}, None, "s", True])
    remote: Doc[Any] = Doc()
    remote.apply_update(doc.get_update())
    back = decode(list(remote.get("a", type=Array)))
    assert same(back, [42, 1.5, {"k": [0, -3]}, None, "s", True])


@pytest.mark.parametrize(
    ("value", "type_name"),
    [
        ({1, 2}, "set"),
        (frozenset(), "frozenset"),
        (bytearray(b"x"), "bytearray"),
        (object(), "object"),
        (1j, "complex"),
        (len, "builtin_function_or_method"),
    ],
)
def test_unsupported_types_name_key_and_type(value: Any, type_name: str) -> None:
    with pytest.raises(TypeError) as info:
        encode(value, key="tags")
    message = str(info.value)
    assert "'tags'" in message and f"a {type_name}" in message
    assert "supported types are" in message


def test_set_error_suggests_a_mergeable_set() -> None:
    with pytest.raises(TypeError, match=r"room\.set\('tags'\)"):
        encode({"a"}, key="tags")


def test_nested_unsupported_value_shows_path() -> None:
    with pytest.raises(TypeError) as info:
        encode({"items": [1, 2, {3}]}, key="cfg")
    assert "'cfg'['items'][2]" in str(info.value) and "a set" in str(info.value)
    assert "room.set" not in str(info.value)  # a nested set cannot become a mergeable set
    with pytest.raises(TypeError, match="set"):
        encode([{1}])  # no key given: still a clear TypeError


def test_non_str_dict_key_is_rejected_with_path() -> None:
    with pytest.raises(TypeError) as info:
        encode({"a": [{1: "x"}]}, key="cfg")
    message = str(info.value)
    assert "'cfg'['a'][0]" in message and "int key" in message


def test_lone_surrogate_is_a_value_error_not_a_panic() -> None:
    with pytest.raises(ValueError, match="'k'"):
        encode(["ok", "bad\ud800"], key="k")
    with pytest.raises(ValueError, match="surrogate"):
        encode({"\udfff": 1})


def test_element_key_distinguishes_types() -> None:
    keys = {element_key(v) for v in (1, 1.0, True, "1", (1,), [1], Decimal(1))}
    assert len(keys) == 7
    assert element_key(0.0) != element_key(-0.0)


def test_element_key_ignores_dict_order() -> None:
    a = {"x": 1, "y": {"p": [1, 2], "q": None}}
    b = {"y": {"q": None, "p": [1, 2]}, "x": 1}
    assert element_key(a) == element_key(b)
    assert element_key(math.nan) == element_key(float("nan"))
    assert element_key(2**80) == element_key(2**80)


@pytest.mark.parametrize(
    "raw",
    [
        {TAG: "martian", "v": 1.0},
        {TAG: 3.0, "v": "x"},
        {TAG: "int"},
        {TAG: "int", "v": "5", "extra": True},
        {TAG: "int", "v": "five"},
        {TAG: "int", "v": 5.0},
        {TAG: "float", "v": "abc"},
        {TAG: "datetime", "v": "2024-13-45"},
        {TAG: "date", "v": None},
        {TAG: "time", "v": "25:00"},
        {TAG: "timedelta", "v": [1.0, 2.0]},
        {TAG: "timedelta", "v": [1.0, 2.5, 0.0]},
        {TAG: "timedelta", "v": [1e300, 0.0, 0.0]},
        {TAG: "bytes", "v": "not base64!"},
        {TAG: "bytes", "v": "ü"},
        {TAG: "decimal", "v": "1.2.3"},
        {TAG: "uuid", "v": "nope"},
        {TAG: "tuple", "v": "abc"},
        {TAG: "dict", "v": [1.0]},
    ],
    ids=repr,
)
def test_malformed_tags_decode_to_plain_dict(
    raw: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="crdt_sync.codec"):
        back = decode(raw)
    assert type(back) is dict
    assert back.keys() == raw.keys()
    assert back == decode(dict(raw.items()))  # deterministic, values decoded as plain data
    assert any(r.name == "crdt_sync.codec" for r in caplog.records)


def test_malformed_tag_values_are_decoded_inside() -> None:
    assert same(decode({TAG: "nope", "v": [1.0, 2.5]}), {TAG: "nope", "v": [1, 2.5]})


# Hypothesis: nested values of every supported kind survive encode/decode and a real document.

# Whole-second offsets: Python 3.11's fromisoformat drops the microseconds of an offset.
aware_tz = st.integers(min_value=-86399, max_value=86399).map(
    lambda s: dt.timezone(dt.timedelta(seconds=s))
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats()
    | st.text()
    | st.binary()
    | st.dates()
    | st.datetimes()
    | st.datetimes(timezones=aware_tz)
    | st.times(timezones=st.none() | aware_tz)
    | st.timedeltas()
    | st.decimals()
    | st.uuids()
)
dict_keys = st.text() | st.sampled_from([TAG, "v", ""])
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.lists(children, max_size=4).map(tuple)
        | st.dictionaries(dict_keys, children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(values)
def test_hypothesis_round_trip(value: Any) -> None:
    assert_round_trip(value)


@settings(max_examples=200, deadline=None)
@given(values)
def test_hypothesis_element_key_is_stable(value: Any) -> None:
    assert element_key(value) == element_key(decode(encode(value)))


def test_regression_dicts_read_back_in_the_order_written() -> None:
    """Issue 12 case 12: a chat message {"nickname", "text"} read back with "text" first in
    about half the messages (a Yjs map keeps no order), so pages showed it differently."""
    from crdt_sync.doc import Room

    room = Room("chat")
    for i in range(20):
        room.list("msgs").append({"nickname": f"n{i}", "text": "hi", "at": i})
    copy = Room("copy")
    copy.merge(room.export())
    for source in (room, copy):
        assert all(list(m) == ["nickname", "text", "at"] for m in source.list("msgs").to_list())
    room["nested"] = {"z": [{"b": 1, "a": 2}], "a": 0}
    assert list(room["nested"]) == ["z", "a"]
    assert list(room["nested"]["z"][0]) == ["b", "a"]


def test_dict_order_does_not_change_what_a_set_element_is() -> None:
    assert element_key({"z": 1, "a": 2}) == element_key({"a": 2, "z": 1})


def test_a_dict_with_the_order_key_as_user_data_round_trips() -> None:
    value = {"$crdt_keys": ["x"], "b": 1}
    assert decode(encode(value)) == value
