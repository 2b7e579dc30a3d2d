"""A shared filter panel, written the way Streamlit's docs write apps.

Defaults go into ``st.session_state`` first, a "Reset filters" button's callback sets
``st.session_state``, and a team is picked in a selectbox (each team is its own room).
Open it in two tabs: change the level in one, reset in the other, switch teams.

    streamlit run examples/filters.py
"""

import streamlit as st

import crdt_sync

DEFAULTS = {"level": 50, "regions": ["North"], "notes": ""}

for key, value in DEFAULTS.items():  # defaults first (the room's values win)
    if key not in st.session_state:
        st.session_state[key] = value


def reset() -> None:
    """Everyone's filters go back to the defaults."""
    for key, value in DEFAULTS.items():
        st.session_state[key] = value


st.title("Shared filters")
team = st.sidebar.selectbox("Team", ["red", "blue"], key=crdt_sync.private("team"))
with crdt_sync.sync(f"filters-{team}"):
    st.slider("Level", 0, 100, key="level")
    st.multiselect("Regions", ["North", "South", "East", "West"], key="regions")
    st.text_area("Notes", key="notes")
    st.button("Reset filters", on_click=reset)

regions = ", ".join(st.session_state.regions) or "no region"
st.write(f"Team {team}: level {st.session_state.level} in {regions}")
crdt_sync.presence_bar()
