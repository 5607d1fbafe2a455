"""Thought signatures: issued by the simulator, validated on replay (docs/upstream.md §8).

Gemini 3 signatures are base64 of bytes starting 0x12; Claude ones are "R-form" (base64 of an `E...`
base64 string), and their one-layer decoded E-form is accepted too. Each signature remembers the
family (and account) that received it. Deliberately no real encryption or content binding.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from tests.fakes.catalogue import ModelSpec
from tests.fakes.envelope import SIGNATURE_SENTINELS
from tests.fakes.errors import (
    FaultError,
    anthropic_error,
    claude_invalid_signature,
    corrupted_thought_signature,
    missing_thought_signature,
)
from tests.fakes.ids import Ids


@dataclass(frozen=True)
class Issued:
    family: str  # "gemini" or "claude"
    email: str | None


def family_of(spec: ModelSpec) -> str:
    return "claude" if spec.is_claude else "gemini"


class SignatureBook:
    """Callers hold the simulator lock."""

    def __init__(self, ids: Ids, bind_to_account: bool = False) -> None:
        self._ids = ids
        self._issued: dict[str, Issued] = {}
        self.bind_to_account = bind_to_account

    def issue(self, spec: ModelSpec, email: str | None) -> str:
        issued = Issued(family_of(spec), email)
        e_form = base64.b64encode(b"\x12" + self._ids.raw(62)).decode()
        if issued.family == "gemini":
            self._issued[e_form] = issued
            return e_form
        r_form = base64.b64encode(e_form.encode()).decode()
        self._issued[r_form] = self._issued[e_form] = issued
        return r_form

    def valid(self, signature: str, spec: ModelSpec, email: str | None) -> bool:
        if signature in SIGNATURE_SENTINELS:
            return not spec.is_claude
        issued = self._issued.get(signature)
        if issued is None or issued.family != family_of(spec):
            return False
        return not self.bind_to_account or issued.email == email

    def check(self, contents: list[dict[str, Any]], spec: ModelSpec, email: str | None) -> None:
        """Raise FaultError when replayed history breaks the signature rules of `spec`'s family."""
        if spec.is_claude:
            self._check_claude(contents, spec, email)
        elif spec.family == "gemini3":
            self._check_gemini(contents, spec, email)

    def _check_gemini(
        self, contents: list[dict[str, Any]], spec: ModelSpec, email: str | None
    ) -> None:
        for index in range(_active_loop_start(contents), len(contents)):
            if contents[index].get("role") != "model":
                continue
            first_call = True
            for item in contents[index].get("parts", []):
                signature = item.get("thoughtSignature")
                if item.get("functionCall") and first_call:
                    first_call = False
                    if not signature:
                        raise FaultError(
                            missing_thought_signature(item["functionCall"].get("name", ""), index)
                        )
                if signature and not self.valid(signature, spec, email):
                    raise FaultError(corrupted_thought_signature())

    def _check_claude(
        self, contents: list[dict[str, Any]], spec: ModelSpec, email: str | None
    ) -> None:
        for index, content in enumerate(contents):
            if content.get("role") != "model":
                continue
            for start, signature in _thinking_blocks(content.get("parts", [])):
                if not signature:
                    raise FaultError(
                        anthropic_error(
                            f"messages.{index}.content.{start}.thinking.signature: Field required"
                        )
                    )
                if not self.valid(signature, spec, email):
                    raise FaultError(claude_invalid_signature(index, start))


def _active_loop_start(contents: list[dict[str, Any]]) -> int:
    """Index after the last user turn holding genuine text (not only functionResponses)."""
    for index in range(len(contents) - 1, -1, -1):
        content = contents[index]
        if content.get("role") in (None, "", "user") and any(
            "text" in p for p in content.get("parts", [])
        ):
            return index + 1
    return 0


def _thinking_blocks(parts: list[dict[str, Any]]) -> list[tuple[int, str | None]]:
    """(index of first part, signature) for each run of consecutive `thought: true` parts."""
    blocks: list[tuple[int, str | None]] = []
    previous_thought = False
    for index, item in enumerate(parts):
        is_thought = bool(item.get("thought"))
        if is_thought and not previous_thought:
            blocks.append((index, None))
        if is_thought and item.get("thoughtSignature"):
            blocks[-1] = (blocks[-1][0], item["thoughtSignature"])
        previous_thought = is_thought
    return blocks
