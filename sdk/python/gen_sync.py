"""Makes the synchronous client from the asyncio one: berth/client.py from
berth/_async_client.py and berth/sandbox.py from berth/_async_sandbox.py, by
removing the asyncio keywords (as the unasync tool of httpcore does). Edit
the _async_ files, then run:

    python3 sdk/python/gen_sync.py

tests/test_generated.py fails when a generated file is not what this
script makes.
"""

from __future__ import annotations

import io
import os
import re
import sys
import tokenize

HERE = os.path.dirname(os.path.abspath(__file__))
PAIRS = {"berth/_async_client.py": "berth/client.py", "berth/_async_sandbox.py": "berth/sandbox.py"}

RULES: list[tuple[str, str]] = [
    (r"This module is the source of [^\n]*\n[^\n]*edit this one\.",
     "Made by gen_sync.py from {src}: edit that file, not this one."),
    (r"from \._async_http import", "from ._http import"),
    (r"from \._async_sandbox import", "from .sandbox import"),
    (r"\bAwaitable, ", ""),
    (r"\bAwaitable\[([\w.]+)\]", r"\1"),
    (r"\basync def\b", "def"),
    (r"\basync for\b", "for"),
    (r"\basync with\b", "with"),
    (r"\bawait ", ""),
    (r"\((self\.(?:_t\.)?\w+\([^\n]*?\))\)(\.|\[)", r"\1\2"),
    (r"\b__aenter__\b", "__enter__"),
    (r"\b__aexit__\b", "__exit__"),
    (r"\b__aiter__\b", "__iter__"),
    (r"\b__anext__\b", "__next__"),
    (r"\bAsync(Berth|Sandbox|Files|Commands|Transport|SSEStream|Iterator)\b", r"\1"),
]


def _bracket_of_rows(text: str) -> dict[int, tuple[int, int]]:
    """For each row (1-based) that starts inside brackets: the innermost
    bracket open at its start, as (row, col)."""
    out: dict[int, tuple[int, int]] = {}
    stack: list[tuple[int, int]] = []
    last_row = 0
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.start[0] > last_row:
            for r in range(last_row + 1, tok.start[0] + 1):
                if stack:
                    out[r] = stack[-1]
            last_row = tok.end[0]
        if tok.type == tokenize.OP and tok.string in "([{":
            stack.append(tok.start)
        elif tok.type == tokenize.OP and tok.string in ")]}":
            stack.pop()
    return out


def _apply(rules: list[tuple[str, str]], text: str, src_path: str) -> str:
    for pattern, repl in rules:
        text = re.sub(pattern, repl.replace("{src}", os.path.basename(src_path)), text)
    return text


def _realign(text: str, src_path: str) -> str:
    """Moves each continuation line aligned to its bracket by as much as the
    rules take out before that bracket, so that it stays aligned."""
    lines = text.split("\n")
    shift: dict[int, int] = {}
    for r, (b, c) in sorted(_bracket_of_rows(text).items()):
        line = lines[r - 1]
        if not line.strip() or len(line) - len(line.lstrip(" ")) != c + 1:
            continue
        before = lines[b - 1][:c]
        k = len(before) - len(_apply(RULES[1:], before, src_path)) + shift.get(b, 0)
        if 0 < k <= c:
            shift[r] = k
            lines[r - 1] = line[k:]
    return "\n".join(lines)


def generate(src_path: str) -> str:
    """The synchronous module made from the asyncio one at src_path."""
    with open(os.path.join(HERE, src_path)) as f:
        text = f.read()
    return _apply(RULES, _realign(text, src_path), src_path)


def main() -> int:
    for src, dst in PAIRS.items():
        with open(os.path.join(HERE, dst), "w") as f:
            f.write(generate(src))
        print(f"wrote {dst} from {src}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
