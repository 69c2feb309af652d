"""Makes the synchronous client from the asyncio one: berth/client.py from
berth/_async_client.py and berth/sandbox.py from berth/_async_sandbox.py, by
removing the asyncio keywords (as the unasync tool of httpcore does). Edit
the _async_ files, then run:

    python3 sdk/python/gen_sync.py

tests/test_generated.py fails when a generated file is not what this
script makes.
"""

from __future__ import annotations

import os
import re
import sys

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


def generate(src_path: str) -> str:
    """The synchronous module made from the asyncio one at src_path."""
    with open(os.path.join(HERE, src_path)) as f:
        text = f.read()
    for pattern, repl in RULES:
        text = re.sub(pattern, repl.replace("{src}", os.path.basename(src_path)), text)
    return text


def main() -> int:
    for src, dst in PAIRS.items():
        with open(os.path.join(HERE, dst), "w") as f:
            f.write(generate(src))
        print(f"wrote {dst} from {src}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
