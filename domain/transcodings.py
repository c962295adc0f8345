"""How our value types are stored inside events (JSON), and read back typed."""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable
from datetime import date
from enum import Enum
from typing import Any, Union, get_args, get_origin, get_type_hints

from eventsourcing.persistence import JSONTranscoder, Transcoding

from domain.person import Profile, Provisioning
from domain.records import Adjustment, Artifact, Change, Reallocation, Review
from domain.sketch import CraftedBlock, Relationship, Sketch, TaskBlock
from domain.values import AdjustmentDraft, CareerGoal, Guardrails


class DateAsISO(Transcoding):
    type = date
    name = "date"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class RecordAsDict(Transcoding):
    """A frozen dataclass as a dict of its fields. Enums are `str` subclasses, so JSON
    stores them as plain strings; decoding turns them (and lists meant as tuples)
    back into their declared types, with converters worked out once per class."""

    def __init__(self, cls: type[Any]) -> None:
        self.type = cls
        self.name = cls.__name__
        self._fields = [f.name for f in dataclasses.fields(cls)]
        hints = get_type_hints(cls)
        self._convert = [
            (name, fn) for name in self._fields if (fn := _converter(hints[name])) is not None
        ]

    @property
    def conversions(self) -> list[tuple[str, Callable[[Any], Any]]]:
        """(field, how its JSON form is restored) for the fields not kept as decoded."""
        return list(self._convert)

    def encode(self, obj: Any) -> dict[str, Any]:
        return {name: getattr(obj, name) for name in self._fields}

    def decode(self, data: dict[str, Any]) -> Any:
        for name, convert in self._convert:
            value = data.get(name)
            if value is not None:
                data[name] = convert(value)
        return self.type(**data)


def _converter(hint: Any) -> Callable[[Any], Any] | None:
    """How to restore a declared type from its JSON form (None: as decoded)."""
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        hint = next(a for a in get_args(hint) if a is not type(None))
        origin = get_origin(hint)
    if origin is tuple:
        return tuple
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint
    return None


def register_all(transcoder: JSONTranscoder) -> None:
    """Register every type our events carry."""
    transcoder.register(DateAsISO())
    for cls in (
        Adjustment,
        AdjustmentDraft,
        Artifact,
        CareerGoal,
        Change,
        Guardrails,
        Profile,
        Provisioning,
        Reallocation,
        Review,
        Sketch,
        TaskBlock,
        CraftedBlock,
        Relationship,
    ):
        transcoder.register(RecordAsDict(cls))
