"""crdt_sync: collaborative Streamlit apps that merge instead of overwrite."""
