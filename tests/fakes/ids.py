"""Deterministic id generator for the simulator (trace ids, response ids, tool ids, tokens).

Seeded `random.Random`, so two runs with the same seed and the same traffic give the same ids.
Not cryptographic and not thread-safe on its own: the simulator calls it under its state lock.
"""

from __future__ import annotations

import base64
import random
import string

BASE62 = string.digits + string.ascii_letters


class Ids:
    def __init__(self, seed: int = 0) -> None:
        self._random = random.Random(seed)

    def raw(self, size: int) -> bytes:
        return self._random.randbytes(size)

    def hex(self, size: int) -> str:
        return self.raw(size // 2).hex()

    def base62(self, size: int) -> str:
        return "".join(self._random.choice(BASE62) for _ in range(size))

    def trace_id(self) -> str:
        return self.hex(16)

    def gemini_response_id(self) -> str:
        """22-char url-safe base64, like `tjVCavaJBYjgz7IP-NnfSQ`."""
        return base64.urlsafe_b64encode(self.raw(16)).decode().rstrip("=")

    def claude_message_id(self) -> str:
        return "msg_vrtx_" + self.base62(24)

    def claude_tool_id(self) -> str:
        return "toolu_vrtx_" + self.base62(24)

    def gemini_call_id(self) -> str:
        return "call_" + self.base62(16)

    def token(self, prefix: str) -> str:
        return prefix + self.base62(40)
