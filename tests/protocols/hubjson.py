"""Hub values <-> plain JSON, for golden files: Structs tagged with "@", tuples as lists.

Fields left at their default are omitted. Dict-typed fields (tool arguments, schemas) stay plain
JSON. Test-only: the gateway itself never serialises hub values.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec

from antigravity_gateway.core import events, messages

_CLASSES = {
    name: cls
    for module in (messages, events)
    for name, cls in vars(module).items()
    if isinstance(cls, type) and issubclass(cls, msgspec.Struct)
}


def dump(value: Any) -> Any:
    if isinstance(value, msgspec.Struct):
        out: dict[str, Any] = {"@": type(value).__name__}
        for f in msgspec.structs.fields(value):
            item = getattr(value, f.name)
            if not _is_default(f, item):
                out[f.name] = dump(item)
        return out
    if isinstance(value, tuple | list):
        return [dump(v) for v in value]
    return value


def load(data: Any) -> Any:
    if isinstance(data, list):
        return [load(v) for v in data]
    if not (isinstance(data, dict) and "@" in data):
        return data
    cls = _CLASSES[data["@"]]
    kwargs = {}
    for f in msgspec.structs.fields(cls):
        if f.name in data:
            kwargs[f.name] = _load_field(str(f.type), data[f.name])
    return cls(**kwargs)


def _load_field(annotation: str, value: Any) -> Any:
    if annotation.startswith("dict"):
        return value
    if annotation.startswith("tuple") and isinstance(value, list):
        return tuple(load(v) for v in value)
    return load(value)


def _is_default(f: msgspec.structs.FieldInfo, value: Any) -> bool:
    if f.default is not msgspec.NODEFAULT:
        return bool(value == f.default)
    if f.default_factory is not msgspec.NODEFAULT:
        return bool(value == f.default_factory())
    return False


def to_text(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def read(path: Path) -> Any:
    return json.loads(path.read_text())
