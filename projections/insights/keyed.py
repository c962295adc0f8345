"""Keyed hashes of target roles and skills, so the projector can keep them grouped
(projections.insights.kept_outcomes, kept_skills) without their text: the key a role
or skill is grouped under (case and spacing ignored, figures.group_key) and its exact
spelling (for the label: the most used one), each as HMAC-SHA256 under a key derived
from the name index's (itself derived from the master key; the database holds neither).

What a hash gives away to someone holding the database without the key: which people
name the same skill or target role (and how many), as the name index tells for names;
not the text (docs/insights.md, "Keyed hashes, not text"). A text that no longer opens (its
person erased) has no hash: it is kept unreadable, as the full computation reads it."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass

from projections.insights.figures import UNREAD, group_key
from projections.name_index import NameIndex

LABEL = b"crafting:insight-groups:v1"


@dataclass(frozen=True)
class GroupHasher:
    """The insights' key and how a stored text (an envelope) is opened."""

    key: bytes
    open: Callable[[str], str]

    @classmethod
    def of(cls, names: NameIndex) -> GroupHasher:
        """The hasher of a service whose name index is `names` (a key of its own)."""
        return cls(hmac.new(names.key, LABEL, hashlib.sha256).digest(), names.open)

    def _hashed(self, kind: bytes, text: str) -> str:
        return hmac.new(self.key, kind + text.encode(), hashlib.sha256).hexdigest()[:32]

    def hashes(self, stored_text: str) -> tuple[str | None, str | None]:
        """The group key's and the spelling's hashes of a stored text; none when it
        cannot be read (figures.group_key's UNREAD)."""
        text = self.open(stored_text)
        key = group_key(text)
        if key == UNREAD:
            return None, None
        return self._hashed(b"k:", key), self._hashed(b"s:", text.strip())
