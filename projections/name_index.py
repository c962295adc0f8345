"""Finding people by name although names are sealed at rest (crypto-shredding): a
blind index of keyed hashes of the tokens of each person's display name.

A name is normalised (Unicode compatibility form, accents dropped, case folded) and cut
into its words; each word is stored as HMAC-SHA256 under a server key the database does
not hold (derived from the master key), one row per person and word. A search hashes
its own words the same way and finds the people who have all of them. Erasure deletes
the person's rows (the projector, on PersonErased; a rebuild cannot make them again,
the name no longer opens). What the index gives away to someone holding the database
without the key is in docs/architecture.md ("Searching by name")."""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from domain.sealing import ERASED, UNREADABLE

MAX_TOKENS = 12  # words of one name indexed (a display name is at most 200 characters)
MAX_QUERY_TOKENS = 6
_WORD = re.compile(r"[^\W_]+")
LABEL = b"crafting:name-index:v1"


def words(text: str) -> list[str]:
    """The name's words as the index keeps them: "Zoë  O'Neil-Smith" → ["zoe", "o",
    "neil", "smith"] (in order, each once)."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch)).casefold()
    found: list[str] = []
    for word in _WORD.findall(plain):
        if word not in found:
            found.append(word)
    return found


def index_key(master_key: bytes) -> bytes:
    """The index's own key, derived from the master key (never stored)."""
    return hmac.new(master_key, LABEL, hashlib.sha256).digest()


@dataclass(frozen=True)
class NameIndex:
    """How the projector and the searches hash names: the key, and how a stored
    display name (an envelope) is opened."""

    key: bytes
    open: Callable[[str], str]

    def hashed(self, word: str) -> str:
        return hmac.new(self.key, word.encode(), hashlib.sha256).hexdigest()[:32]

    def tokens_of(self, stored_name: str) -> set[str]:
        """The hashed words of a stored display name; none once it no longer opens."""
        text = self.open(stored_name)
        if text in (ERASED, UNREADABLE):
            return set()
        return {self.hashed(w) for w in words(text)[:MAX_TOKENS]}

    def query(self, text: str) -> list[str]:
        """The hashed words of what someone typed in a filter (empty: no words)."""
        return sorted({self.hashed(w) for w in words(text)[:MAX_QUERY_TOKENS]})
