"""The ``crdt-sync`` command."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path


def _demo(args: argparse.Namespace) -> int:
    app = Path(__file__).parent / "demo" / "app.py"
    env = dict(os.environ)
    if args.store:
        env["CRDT_SYNC_STORE"] = args.store
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(args.port)]
    return subprocess.call(cmd, env=env)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``crdt-sync`` command."""
    parser = argparse.ArgumentParser(prog="crdt-sync", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="start the collaborative demo on the embedded store")
    demo.add_argument("--port", type=int, default=8501)
    demo.add_argument("--store", default=None, help="store spec (default diskcache:.crdt_sync)")
    demo.set_defaults(func=_demo)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
