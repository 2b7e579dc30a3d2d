"""Side-by-side measurements of crdt_sync against its anchors; results in RESULTS.md."""
