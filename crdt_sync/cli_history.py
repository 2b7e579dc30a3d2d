"""The ``crdt-sync`` history commands: who changed what, the room at any version, restore.

```
crdt-sync history plans [--json]               # version, time (UTC), who, keys
crdt-sync show plans --at 12 [--json]          # the room at version 12 (as `inspect`)
crdt-sync show plans --at 2026-12-07T01:30Z    # ... or at a moment
crdt-sync restore plans --at 12 [--keys a,b]   # written forward, by "crdt-sync"
```

`cli` adds these commands to its group. Errors (unknown room or version, a store without
history) print one line on stderr, change nothing and exit with status 2.
"""

from __future__ import annotations

import datetime as dt
import json

import click

from .cli_common import CliError, _existing, _store, print_contents, store_option
from .cli_text import json_printable, printable
from .doc import Room, UpdateStore, authors
from .doc.errors import UnknownVersion
from .doc.history import RoomHistory, iso
from .doc.inspection import room_contents


def _history(store: UpdateStore, name: str) -> tuple[Room, RoomHistory]:
    room = store.load(_existing(store, name))
    if room.history is None:
        raise CliError(f"room {name!r} has no history (the store keeps none: history=off?)")
    return room, room.history


at_option = click.option(
    "--at",
    "at",
    required=True,
    metavar="VERSION|TIME",
    help="A version id (from `crdt-sync history`) or an ISO 8601 time such as "
    "2026-12-07T01:30:00Z.",
)


@click.command(name="history")
@store_option
@click.option("--json", "as_json", is_flag=True, help="One JSON array of versions.")
@click.argument("room")
def history_command(store_spec: str, as_json: bool, room: str) -> None:
    """List ROOM's versions, oldest first: version, time (UTC), who, keys changed."""
    with _store(store_spec) as store:
        versions = _history(store, room)[1].versions()
    if as_json:
        text = json.dumps([v.to_json() for v in versions], indent=2, ensure_ascii=False)
        click.echo(json_printable(text))  # names and keys come from any client
        return
    if not versions:
        click.echo(f"room {room!r}: no history yet")
        return
    rows = [("VERSION", "TIME (UTC)", "WHO", "KEYS")]
    rows += [
        (
            v.version,
            iso(v.time),
            printable(", ".join(v.who)),
            printable(", ".join(v.keys)),
        )
        for v in versions
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        click.echo(
            f"{r[0]:>{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}".rstrip()
        )


@click.command(name="show")
@store_option
@at_option
@click.option("--json", "as_json", is_flag=True, help="JSON in the document's value form.")
@click.argument("room")
def show_command(store_spec: str, at: str, as_json: bool, room: str) -> None:
    """Show ROOM as it was at a version or a time (the same form as `inspect`)."""
    with _store(store_spec) as store:
        history = _history(store, room)[1]
        try:
            meta = history.find(at)
            contents = room_contents(history.room_at(meta["version"])) if meta else {}
        except UnknownVersion as exc:
            raise CliError(str(exc)) from None
    version, when, where = None, None, f" at {at} (before any version)"
    if meta is not None:
        version = str(meta["version"])
        when = iso(dt.datetime.fromtimestamp(float(meta["t1"]), dt.UTC))
        where = f" at version {version} ({when})"
    print_contents(room, contents, as_json=as_json, where=where, version=version, time=when)


@click.command(name="restore")
@store_option
@at_option
@click.option(
    "--keys", "keys", metavar="K1,K2", help="Restore only these keys (default: the whole room)."
)
@click.argument("room")
def restore_command(store_spec: str, at: str, keys: str | None, room: str) -> None:
    """Write ROOM's state at a version forward, as one new change by crdt-sync.

    Edits made since are merged, not lost; history keeps every version.
    """
    chosen = None if keys is None else [k.strip() for k in keys.split(",") if k.strip()]
    with _store(store_spec) as store:
        history = _history(store, room)[1]
        try:
            meta = history.find(at)
            label = meta["version"] if meta is not None else at
            changed = history.restore(label, keys=chosen, origin=authors.CLI_AUTHOR)
        except UnknownVersion as exc:
            raise CliError(str(exc)) from None
        flush = getattr(store, "flush", None)
        if changed and callable(flush) and not flush():  # a full disk, an unreachable server
            status = getattr(store, "status", None)
            why = status().error if callable(status) else "it did not take the change"
            raise CliError(f"could not store the restore of room {room!r}: {why}")
    what = f"version {label}" if meta is not None else f"{at} (before any version)"
    if not changed:
        click.echo(f"room {room!r} already matches {what}; nothing changed")
        return
    listed = printable(", ".join(changed))
    click.echo(f"restored room {room!r} to {what}: {len(changed)} key(s) changed: {listed}")


COMMANDS = (history_command, show_command, restore_command)
