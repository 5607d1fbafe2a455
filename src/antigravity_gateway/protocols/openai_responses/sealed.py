"""A signed thinking part inside a reasoning item's `encrypted_content`, and back.

`agm1:` + base64url(JSON {family, signature, text, redacted}): the text travels with its
signature because Claude wants its thinking replayed verbatim, and the family tag makes sure a
signature only ever goes back to the models that issued it. Opaque to the client, and not
encrypted: the text is what the summary shows anyway. Foreign blobs unseal to nothing.
"""

from __future__ import annotations

import base64
import binascii
from typing import cast, get_args

import msgspec

from antigravity_gateway.core.messages import Family, Signature, Thinking

_PREFIX = "agm1:"
_FAMILIES: tuple[str, ...] = get_args(Family)


class _Sealed(msgspec.Struct, forbid_unknown_fields=True):
    family: str
    signature: str
    text: str = ""
    redacted: bool = False


def seal(part: Thinking) -> str | None:
    """The sealed form of a signed thinking part; None when it has no signature."""
    sig = part.signature
    if sig is None:
        return None
    sealed = _Sealed(family=sig.family, signature=sig.value, text=part.text, redacted=part.redacted)
    return _PREFIX + base64.urlsafe_b64encode(msgspec.json.encode(sealed)).decode()


def unseal(content: str) -> Thinking | None:
    if not content.startswith(_PREFIX):
        return None
    try:
        raw = base64.urlsafe_b64decode(content[len(_PREFIX) :].encode())
        sealed = msgspec.json.decode(raw, type=_Sealed)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        return None
    if sealed.family not in _FAMILIES or not sealed.signature:
        return None
    signature = Signature(value=sealed.signature, family=cast(Family, sealed.family))
    return Thinking(text=sealed.text, signature=signature, redacted=sealed.redacted)
