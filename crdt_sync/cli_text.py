"""Text the ``crdt-sync`` command prints from a room: keys and values any client wrote.

A key can carry terminal escape sequences (``"\\x1b]0;owned\\x07"``) or bidirectional
overrides; printed raw they would act on the operator's terminal. These helpers escape
every character a terminal would act on, and leave the rest (``"Zoë ✓"``) as it is.

```py
printable("a\\x1b[2Jb")        # 'a\\\\x1b[2Jb'
json_printable('"\\u009b"')    # '"\\\\u009b"'
```
"""

from __future__ import annotations


def printable(text: str) -> str:
    """``text`` with each non-printable character as its Python escape (``\\\\x1b``,
    ``\\\\u202e``, ``\\\\n``).

    Args:
        text: Any text.
    """
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def json_printable(text: str) -> str:
    """JSON text with the non-printable characters as ``\\\\uXXXX`` escapes (newlines of the
    layout kept). ``json.dumps(..., ensure_ascii=False)`` escapes C0 controls only, and
    leaves C1 controls (``\\\\x9b`` starts an escape sequence too) and format characters raw.

    Args:
        text: JSON text (outside its strings only ASCII and newlines appear).
    """
    out = []
    for c in text:
        if c.isprintable() or c == "\n":
            out.append(c)
        elif ord(c) > 0xFFFF:
            high, low = divmod(ord(c) - 0x10000, 0x400)
            out.append(f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}")
        else:
            out.append(f"\\u{ord(c):04x}")
    return "".join(out)
