"""berth/client.py and berth/sandbox.py are made from the asyncio sources
by gen_sync.py: each must be exactly what the script makes now."""

from __future__ import annotations

import os
import sys
import unittest

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)

import gen_sync  # noqa: E402


class GeneratedTest(unittest.TestCase):
    def test_sync_modules_are_generated(self) -> None:
        for src, dst in gen_sync.PAIRS.items():
            with open(os.path.join(HERE, dst)) as f:
                have = f.read()
            self.assertEqual(have, gen_sync.generate(src),
                             f"{dst} is not what gen_sync.py makes from {src}: edit {src}, then run "
                             "python3 sdk/python/gen_sync.py")

    def test_generated_modules_have_no_asyncio_left(self) -> None:
        for dst in gen_sync.PAIRS.values():
            with open(os.path.join(HERE, dst)) as f:
                text = f.read()
            for word in ("async ", "await ", "Async", "asyncio"):
                self.assertNotIn(word, text, f"{dst} still says {word!r}")


if __name__ == "__main__":
    unittest.main()
