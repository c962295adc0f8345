"""Data keys, one per data subject for life, wrapped by the master key:
destroying a key erases everything sealed under it (crypto-shredding).

A subject's data key seals their personal data (domain.sealing). It is stored wrapped
(AES-256-GCM under the master key, bound to its key id and subject), so a dump of this
table alone opens nothing. Destroying it erases the subject: the row stays, without the
key, so no new key can ever be made for them and their old envelopes read as erased
rather than as unknown. `KeyRing` is what the service uses: the domain's `Keys`, with
keys cached per process for a few seconds (so an erasure made by another process takes
effect within that time) and a key store that cannot be reached reported as
`KeysUnavailable`, never as an erasure.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    LargeBinary,
    MetaData,
    Row,
    String,
    Table,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError

from domain.sealing import (
    ERASED,
    PREFIX,
    UNREADABLE,
    Kept,
    KeysUnavailable,
    Sealed,
    SealError,
    SubjectErased,
    key_ids_in,
    new_data_key,
    opened,
    seal,
    value_key,
)
from infra import migrations

log = logging.getLogger(__name__)
metadata = MetaData()
data_keys = Table(
    "crafting_data_keys",
    metadata,
    Column("subject_id", String(128), primary_key=True),
    Column("key_id", String(64), nullable=False, unique=True),
    Column("wrapped", LargeBinary, nullable=True),  # None once destroyed
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("destroyed_at", DateTime(timezone=True), nullable=True),
)


class WrongMasterKey(Exception):
    """A stored key does not unwrap with this master key (never shown as an erasure)."""


# What a reader gets for a key that exists but cannot be used: its row lost the wrapped
# key without a recorded destruction, or the wrapped key does not unwrap (damaged, or a
# wrong master key). Its texts read as UNREADABLE, never as erased; `crafting verify`
# names the subject. A real data key is 32 bytes, so this can never be one.
UNREADABLE_KEY = b""


@dataclass(frozen=True)
class KeyStore:
    """The data keys in `engine`'s database, wrapped by `master_key` (32 bytes)."""

    engine: Engine
    master_key: bytes
    # Reads take no write lock: on SQLite the writer engine begins every transaction
    # IMMEDIATE, and a key is read while this process may hold the write lock (a rebuild).
    reader: Engine | None = None

    def __repr__(self) -> str:
        return f"KeyStore({self.engine.url!r})"  # never the master key

    def migrate(self) -> list[str]:
        """Bring the key table to the code's version (created on first use); the
        revisions run."""
        return migrations.upgrade(self.engine, migrations.KEYS)

    def key_for(self, subject_id: str) -> tuple[str, bytes]:
        """The subject's key id and data key, made on first use (one per subject, also
        when several processes ask at once); SubjectErased once destroyed."""
        row = self._row(subject_id)
        if row is None:  # first use: made here, or by whoever races us to it
            key_id, data_key = secrets.token_urlsafe(12), new_data_key()
            insert = sqlite_insert if self.engine.dialect.name == "sqlite" else pg_insert
            with self.engine.begin() as conn:
                conn.execute(
                    insert(data_keys)
                    .values(
                        subject_id=subject_id,
                        key_id=key_id,
                        wrapped=self._wrap(key_id, subject_id, data_key),
                        created_at=datetime.now(UTC),
                    )
                    .on_conflict_do_nothing(index_elements=["subject_id"])
                )
            row = self._row(subject_id)
            assert row is not None
        if row.wrapped is None and row.destroyed_at is not None:
            raise SubjectErased(subject_id)
        key = self._usable(row.key_id, subject_id, row.wrapped, row.destroyed_at)
        if not key:  # nothing may be recorded as if they were erased: refuse instead
            raise KeysUnavailable(
                "A data key cannot be used (missing or damaged): nothing was recorded."
            )
        return row.key_id, key

    def make_keys(self, subject_ids: Iterable[str], chunk: int = 5000) -> None:
        """Make the keys of many subjects at once, those who have one keeping it: what
        `key_for` does on first use, in one transaction per `chunk` rather than one per
        subject (bulk loads: a directory of 100,000 people)."""
        insert = sqlite_insert if self.engine.dialect.name == "sqlite" else pg_insert
        subjects = list(subject_ids)
        for at in range(0, len(subjects), chunk):
            rows = []
            for subject_id in subjects[at : at + chunk]:
                key_id = secrets.token_urlsafe(12)
                wrapped = self._wrap(key_id, subject_id, new_data_key())
                rows.append(
                    {
                        "subject_id": subject_id,
                        "key_id": key_id,
                        "wrapped": wrapped,
                        "created_at": datetime.now(UTC),
                    }
                )
            with self.engine.begin() as conn:
                conn.execute(
                    insert(data_keys).on_conflict_do_nothing(index_elements=["subject_id"]), rows
                )

    def _row(self, subject_id: str) -> Row[Any, Any, Any] | None:
        with (self.reader or self.engine).connect() as conn:
            return conn.execute(
                select(data_keys.c.key_id, data_keys.c.wrapped, data_keys.c.destroyed_at).where(
                    data_keys.c.subject_id == subject_id
                )
            ).one_or_none()

    def _usable(
        self, key_id: str, subject_id: str, wrapped: bytes | None, destroyed_at: object
    ) -> bytes | None:
        """The data key of a row: None once destroyed (an erasure), UNREADABLE_KEY when
        it is missing without a destruction or does not unwrap (logged, by key id)."""
        if wrapped is None:
            if destroyed_at is not None:
                return None
            log.error("data key %s is missing without an erasure (run `crafting verify`)", key_id)
            return UNREADABLE_KEY
        try:
            return self._unwrap(key_id, subject_id, bytes(wrapped))
        except WrongMasterKey:
            log.error(
                "data key %s does not unwrap: damaged, or not this master key (run "
                "`crafting verify`)",
                key_id,
            )
            return UNREADABLE_KEY

    def data_keys(
        self, key_ids: list[str], conn: Connection | None = None
    ) -> dict[str, bytes | None]:
        """The data keys with these ids that exist (None for destroyed ones); on `conn`
        when given (a reader's open transaction in the same database)."""
        if conn is None:
            with (self.reader or self.engine).connect() as own:
                return self.data_keys(key_ids, own)
        found: dict[str, bytes | None] = {}
        for start in range(0, len(key_ids), 500):
            rows = conn.execute(
                select(
                    data_keys.c.key_id,
                    data_keys.c.subject_id,
                    data_keys.c.wrapped,
                    data_keys.c.destroyed_at,
                ).where(data_keys.c.key_id.in_(key_ids[start : start + 500]))
            )
            for row in rows:
                found[row.key_id] = self._usable(
                    row.key_id, row.subject_id, row.wrapped, row.destroyed_at
                )
        return found

    def data_key(self, key_id: str) -> bytes | None:
        """The data key with this id; None once destroyed; KeyError if never made."""
        with (self.reader or self.engine).connect() as conn:
            row = conn.execute(
                select(data_keys.c.subject_id, data_keys.c.wrapped, data_keys.c.destroyed_at).where(
                    data_keys.c.key_id == key_id
                )
            ).one_or_none()
        if row is None:
            raise KeyError(key_id)
        return self._usable(key_id, row.subject_id, row.wrapped, row.destroyed_at)

    def destroy(self, subject_id: str, conn: Connection | None = None) -> None:
        """Destroy the subject's key (kept as a destroyed row even if they had none yet),
        on `conn` when given, so it commits with whatever else that transaction writes."""
        if conn is None:
            with self.engine.begin() as own:
                self.destroy(subject_id, own)
            return
        insert = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
        now = datetime.now(UTC)
        conn.execute(
            insert(data_keys)
            .values(
                subject_id=subject_id,
                key_id=secrets.token_urlsafe(12),
                wrapped=None,
                created_at=now,
                destroyed_at=now,
            )
            .on_conflict_do_nothing(index_elements=["subject_id"])
        )
        conn.execute(
            update(data_keys)
            .where(data_keys.c.subject_id == subject_id, data_keys.c.wrapped.is_not(None))
            .values(wrapped=None, destroyed_at=now)
        )

    def unwraps(self, key_id: str, subject_id: str, wrapped: bytes) -> bool:
        """Whether a stored wrapped key opens with the master key (`crafting verify`)."""
        try:
            self._unwrap(key_id, subject_id, wrapped)
        except WrongMasterKey:
            return False
        return True

    def _wrap(self, key_id: str, subject_id: str, data_key: bytes) -> bytes:
        nonce = secrets.token_bytes(12)
        return nonce + AESGCM(self.master_key).encrypt(nonce, data_key, _bound(key_id, subject_id))

    def _unwrap(self, key_id: str, subject_id: str, wrapped: bytes) -> bytes:
        try:
            return AESGCM(self.master_key).decrypt(
                wrapped[:12], wrapped[12:], _bound(key_id, subject_id)
            )
        except InvalidTag:
            raise WrongMasterKey(key_id) from None


def _bound(key_id: str, subject_id: str) -> bytes:
    """What a wrapped key is bound to: moved to another row, it does not unwrap."""
    return f"{key_id}|{subject_id}".encode()


KEY_CACHE_SECONDS = 5.0
# Texts opened under a cached key, kept as long as that key stays cached (a page that
# shows 500 names opens the same 500 values on every request: each a key derivation,
# a commit check and an AES-GCM decryption). Bounded: past this many, it starts over.
TEXTS_CACHED = 20_000
# A page's keys are looked up at once before its texts are opened. A key that would go
# stale within this long is looked up again then, with the rest: otherwise the batch
# looked up together goes stale together, and a page opened across that moment looked
# each of its keys up again one at a time (500 queries for a page of 500 names).
REFRESH_AHEAD_SECONDS = 1.0
# What a page makes of rows it shows on every request (`domain.sealing.Kept`: a select
# of 500 names, opened, sorted and rendered), kept while the very key entries that
# opened them stay cached. Bounded: past this many, it starts over.
KEPT_MADE = 64


class KeyRing:
    """The domain's `Keys` over a key store: seals and opens values, keys cached."""

    def __init__(self, store: KeyStore, cache_seconds: float = KEY_CACHE_SECONDS) -> None:
        self.store = store
        self.cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._by_subject: dict[str, tuple[float, str, bytes]] = {}
        self._by_kid: dict[str, tuple[float, bytes | None]] = {}
        # envelope -> (the data key it was opened with, its text): valid only while that
        # same key is cached and fresh, so a forgotten (erased) key takes its texts with
        # it, and no text outlives the key that opened it. A key read again unchanged
        # keeps them (every 5 s, not 500 decryptions again in the middle of a page).
        self._texts: dict[str, tuple[bytes, str]] = {}
        self._reading = threading.local()  # a reader's connection to look keys up on
        # (make, rows) -> (the key entries that opened the rows, when made, what was
        # made): valid only while each of those same entries is still the cached one
        # and fresh, as a text of `_texts` is (a refreshed or forgotten entry, or one
        # gone stale, makes it again), and never longer than a key is cached.
        self._kept: dict[Any, tuple[tuple[tuple[str, Any], ...], float, Any]] = {}

    @contextmanager
    def reading_on(self, conn: Connection) -> Iterator[None]:
        """Look keys up on `conn` inside the block, when it is the key store's database
        (one transaction, no second connection for a read)."""
        shared = conn.engine in (self.store.engine, self.store.reader)
        self._reading.conn = conn if shared else None
        try:
            yield
        finally:
            self._reading.conn = None

    def __repr__(self) -> str:
        return f"KeyRing({self.store!r})"  # never a key

    def seal(self, subject_id: str, text: str) -> str:
        """`text` sealed under the subject's key (made on first use)."""
        now = time.monotonic()
        cached = self._by_subject.get(subject_id)
        if cached is None or now - cached[0] > self.cache_seconds:
            kid, key = self._reach(lambda: self.store.key_for(subject_id))
            cached = (now, kid, key)
            with self._lock:
                self._by_subject[subject_id] = cached
        return seal(cached[1], cached[2], text).envelope

    def open(self, envelope: str) -> str:
        """The text of an envelope; ERASED once its key is destroyed."""
        now = time.monotonic()
        known = self._texts.get(envelope)
        if known is not None:
            opened_with, text = known
            entry = self._by_kid.get(envelope[len(PREFIX) :].partition(".")[0])
            if (
                entry is not None
                and now - entry[0] <= self.cache_seconds
                and entry[1] is not None
                and hmac.compare_digest(entry[1], opened_with)
            ):
                return text
        try:
            sealed = Sealed(envelope)
        except SealError:
            return envelope  # not an envelope: text as it was written
        cached = self._by_kid.get(sealed.kid)
        if cached is None or now - cached[0] > self.cache_seconds:
            try:
                key = self._reach(lambda: self.store.data_key(sealed.kid))
            except KeyError:  # a key this store never made (another deployment's data)
                key = None
            cached = (now, key)
            with self._lock:
                self._by_kid[sealed.kid] = cached
        if cached[1] is None:
            return ERASED
        if cached[1] == UNREADABLE_KEY:
            return UNREADABLE
        if known is not None and hmac.compare_digest(cached[1], known[0]):
            return known[1]  # its key was read again, unchanged
        try:
            text = opened(sealed, cached[1])
        except SealError:
            return ERASED  # altered: the chains report it; nothing is shown
        if len(self._texts) >= TEXTS_CACHED:
            self._texts.clear()
        self._texts[envelope] = (cached[1], text)
        return text

    def prefetch(self, kids: set[str]) -> None:
        """Look up, in one query, the keys with these ids not cached (or about to go
        stale)."""
        now = time.monotonic()
        # Never more than half the cache's time ahead (short caches: tests, settings).
        fresh_for = self.cache_seconds - min(REFRESH_AHEAD_SECONDS, self.cache_seconds / 2)
        missing = [
            kid
            for kid in kids
            if (cached := self._by_kid.get(kid)) is None or now - cached[0] > fresh_for
        ]
        if not missing:
            return
        conn = getattr(self._reading, "conn", None)
        found = self._reach(lambda: self.store.data_keys(missing, conn))
        with self._lock:
            for kid in missing:  # a key this store never made opens nothing
                self._by_kid[kid] = (now, found.get(kid))

    def kept(self, kept: Kept) -> Any:
        """What `kept` makes of its rows opened, made once and then kept while every
        key that opened them stays cached as it was (an erased key, here or, once its
        cache time is over, in another process, makes it again: with the texts
        erased)."""
        now = time.monotonic()
        signature = (kept.make, kept.rows)
        found = self._kept.get(signature)
        if found is not None:
            entries, made_at, made = found
            if now - made_at <= self.cache_seconds and all(
                (entry := self._by_kid.get(kid)) is used and now - entry[0] <= self.cache_seconds
                for kid, used in entries
            ):
                return made
        kids = key_ids_in(kept.rows)
        self.prefetch(kids)
        before = tuple((kid, self._by_kid.get(kid)) for kid in kids)
        made = kept.made(self)
        # Kept only if no entry changed while the rows were opened (one went stale).
        if all(self._by_kid.get(kid) is used and used is not None for kid, used in before):
            with self._lock:
                if len(self._kept) >= KEPT_MADE:
                    self._kept.clear()
                self._kept[signature] = (before, now, made)
        return made

    def value_key(self, envelope: str) -> bytes | None:
        """The key of one sealed value (an export carries it so an auditor can check the
        text it shows); None once its data key is destroyed."""
        sealed = Sealed(envelope)
        if self.open(envelope) in (ERASED, UNREADABLE):
            return None
        data_key = self._by_kid[sealed.kid][1]
        assert data_key is not None
        return value_key(data_key, sealed.parts()[0])

    def forget(self, subject_id: str) -> None:
        """Drop the subject's cached key (their key was just destroyed here)."""
        with self._lock:
            self._by_subject.pop(subject_id, None)
            self._by_kid.clear()  # erasures are rare; which kid was theirs is not cached
            self._texts.clear()
            self._kept.clear()

    def destroy(self, subject_id: str) -> None:
        """Destroy the subject's key in the key store (idempotent)."""
        self._reach(lambda: self.store.destroy(subject_id))
        self.forget(subject_id)

    def forget_all(self) -> None:
        """Drop every cached key (the next use reads the key store)."""
        with self._lock:
            self._by_subject.clear()
            self._by_kid.clear()
            self._texts.clear()
            self._kept.clear()

    def _reach(self, fetch: Any) -> Any:
        try:
            return fetch()
        except DBAPIError as error:
            raise KeysUnavailable("The key store cannot be reached.") from error


# --- destruction inside the event store's own transaction ----------------------------
# The erasure event and the key's destruction commit together or not at all, so a
# recorded `PersonErased` always means the key is gone. The recorders below run these
# statements on the cursor that inserts the events (same database only).

_KEEP_DESTROYED = (
    "INSERT INTO {table} (subject_id, key_id, wrapped, created_at, destroyed_at) "
    "VALUES ({p}, {p}, NULL, {p}, {p}) ON CONFLICT (subject_id) DO NOTHING"
)
_DESTROY = (
    "UPDATE {table} SET wrapped = NULL, destroyed_at = {p} "
    "WHERE subject_id = {p} AND wrapped IS NOT NULL"
)


def destroy_on(cursor: Any, subjects: Iterable[str], *, table: str, placeholder: str) -> None:
    """Destroy the subjects' keys with `cursor` (a DB-API cursor in the caller's open
    transaction); a subject never keyed gets a destroyed row, so none can appear later."""
    now: Any = datetime.now(UTC)
    if placeholder == "?":  # sqlite3: the text form SQLAlchemy reads back
        now = now.isoformat(sep=" ")
    keep = _KEEP_DESTROYED.format(table=table, p=placeholder)
    destroy = _DESTROY.format(table=table, p=placeholder)
    for subject in subjects:
        cursor.execute(keep, (subject, secrets.token_urlsafe(12), now, now))
        cursor.execute(destroy, (now, subject))
