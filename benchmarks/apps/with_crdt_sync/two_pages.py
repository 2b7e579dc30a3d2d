"""Pages of one room (`benchmarks.load`, "who needs a rerun"): page "one" shares "Alpha"
(key ``a``), page "two" shares "Beta" (key ``b``), each in a ``crdt_sync.sync`` block of
room "bench"; page "three" has no sync block. An edit of Alpha changes nothing page "two"
or page "three" shows."""

import streamlit as st

import crdt_sync


def one() -> None:
    with crdt_sync.sync("bench"):
        a = st.text_input("Alpha", key="a")
    st.text(f"seen a:{a}|")


def two() -> None:
    with crdt_sync.sync("bench"):
        b = st.text_input("Beta", key="b")
    st.text(f"seen b:{b}|")


def three() -> None:
    st.text("nothing shared here")


st.navigation(
    [
        st.Page(one, title="One", url_path="one"),
        st.Page(two, title="Two", url_path="two"),
        st.Page(three, title="Three", url_path="three"),
    ]
).run()
