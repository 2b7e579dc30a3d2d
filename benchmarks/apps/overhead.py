"""100 keyed widgets, inside ``crdt_sync.sync`` (``?mode=sync``) or not (``?mode=plain``).

Each run appends ``<mode> <seconds>`` (the script body's wall time, ``time.perf_counter``)
to the file named by ``BENCH_TIMINGS``.
"""

import time

_started = time.perf_counter()

import os  # noqa: E402
from contextlib import nullcontext  # noqa: E402

import streamlit as st  # noqa: E402

import crdt_sync  # noqa: E402

mode = st.query_params.get("mode", "sync")
block = crdt_sync.sync("overhead") if mode == "sync" else nullcontext()
with block:
    for i in range(40):
        st.text_input(f"Text {i}", key=f"text{i}")
    for i in range(20):
        st.number_input(f"Number {i}", value=0, step=1, key=f"number{i}")
    for i in range(20):
        st.checkbox(f"Check {i}", key=f"check{i}")
    for i in range(10):
        st.slider(f"Level {i}", 0, 100, 50, key=f"level{i}")
    for i in range(10):
        st.selectbox(f"Choice {i}", ["x", "y", "z"], key=f"choice{i}")
st.button("Rerun")

_elapsed = time.perf_counter() - _started
_timings = os.environ.get("BENCH_TIMINGS")
if _timings:
    with open(_timings, "a") as f:
        f.write(f"{mode} {_elapsed:.6f}\n")
