"""Tamper evidence: hash chains per stream, Merkle roots over the log, signed checkpoints.

This module depends only on the standard library (and, to check signatures, the
`cryptography` package), so auditors can verify an export without the service — one
file (hence its length) that an auditor can read and run as it is:

    python domain/integrity.py export.jsonl --public-key BASE64_KEY

An event's hash covers a canonical JSON encoding of its stream, version, topic and
every field as it was written (metadata included, `previous_hash` included), so each
event commits to the whole history of its stream. The Merkle tree follows RFC 6962
(leaf and node hashes are domain-separated), so checkpoints can be extended
incrementally from a stored frontier.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import hashlib
import hmac
import json
import sys
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from enum import Enum
from typing import Any
from uuid import UUID

GENESIS = "0" * 64
SEALED_PREFIX = "\x1es1."  # a sealed value's envelope (domain/sealing.py)
TAG_FIELD = "_tag"  # the service's HMAC of the event's hash (domain/event_tags.py)
# Fields that are not part of what was written (added by the store or the mapper).
NOT_HASHED = frozenset({"originator_id", "originator_version", "class_version", TAG_FIELD})
# Exact types that are their own JSON form (a sealed value is a `str` subclass, an enum
# member an instance of its enum: neither is one of these).
JSON_ATOMS: frozenset[type] = frozenset({str, int, float, bool, type(None)})


def plain(value: Any, *, sealed: bool = True) -> Any:
    """JSON-ready form of a stored value, the same for the domain and the verifier. A
    sealed value (domain.sealing) is its envelope; with `sealed=False` it stays the
    value it is in memory (a `str` that still knows its envelope)."""
    if type(value) in JSON_ATOMS:  # the common case, answered before the checks below
        return value
    if sealed and hasattr(value, "stored_form"):
        return value.stored_form()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: plain(getattr(value, f.name), sealed=sealed) for f in dataclasses.fields(value)
        }
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v, sealed=sealed) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v, sealed=sealed) for v in value]
    return value


def hashed_fields(state: dict[str, Any]) -> dict[str, Any]:
    """The fields an event hash covers, from an event's attributes or stored state."""
    return {k: plain(v) for k, v in state.items() if k not in NOT_HASHED}


# One encoder for every hash (`json.dumps` with these options builds one per call).
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical(stream: str, version: int, topic: str, fields: dict[str, Any]) -> bytes:
    document = {"stream": stream, "version": version, "topic": topic, "fields": fields}
    return _CANONICAL.encode(document).encode()


def event_hash(stream: str, version: int, topic: str, fields: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(stream, version, topic, fields)).hexdigest()


def _leaf(event_hex: str) -> bytes:
    return hashlib.sha256(b"\x00" + bytes.fromhex(event_hex)).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class MerkleFrontier:
    """The roots of the perfect subtrees covering the leaves so far (like a binary
    counter): appending is O(log n) and the frontier is all a checkpoint must keep."""

    def __init__(self, size: int = 0, peaks: list[str] | None = None) -> None:
        self.size = size
        self.peaks = [bytes.fromhex(p) for p in peaks or []]

    def append(self, event_hex: str, formed: list[tuple[int, int, str]] | None = None) -> None:
        """Add a leaf; `formed` (when given) receives every complete subtree this
        completes above the leaf, as (level, index at that level, hash)."""
        node, count, level = _leaf(event_hex), self.size, 0
        while count & 1:  # merge equal-sized subtrees, as carrying in binary addition
            node = _node(self.peaks.pop(), node)
            count >>= 1
            level += 1
            if formed is not None:
                formed.append((level, self.size >> level, node.hex()))
        self.peaks.append(node)
        self.size += 1

    def root(self) -> str:
        """RFC 6962 tree hash of all leaves (the empty tree hashes the empty string)."""
        if not self.peaks:
            return hashlib.sha256(b"").hexdigest()
        node = self.peaks[-1]
        for peak in reversed(self.peaks[:-1]):
            node = _node(peak, node)
        return node.hex()

    def state(self) -> list[str]:
        return [p.hex() for p in self.peaks]


def _complete(width: int) -> bool:
    return width & (width - 1) == 0


def _walk(
    lo: int,
    hi: int,
    targets: list[int],
    a: int,
    b: int,
    leaf: Callable[[int], bytes],
    subtree: Callable[[int, int], bytes],
) -> bytes:
    """RFC 6962's tree hash of leaves [lo, hi): the leaves `targets[a:b]` (sorted, all in
    the range) from `leaf`, every complete subtree holding none of them from `subtree`."""
    if a == b and _complete(hi - lo):
        return subtree(lo, hi)
    if hi - lo == 1:
        return leaf(lo)
    mid = lo + (1 << ((hi - lo - 1).bit_length() - 1))  # the largest power of two < width
    m = bisect_left(targets, mid, a, b)
    return _node(
        _walk(lo, mid, targets, a, m, leaf, subtree), _walk(mid, hi, targets, m, b, leaf, subtree)
    )


def proof_subtrees(size: int, targets: list[int]) -> list[tuple[int, int]]:
    """The complete subtrees [lo, hi) an inclusion proof of the leaves `targets` (sorted)
    in a tree of `size` leaves needs: every one beside the targets' paths to the root."""
    needed: list[tuple[int, int]] = []
    if size:

        def note(lo: int, hi: int) -> bytes:
            needed.append((lo, hi))
            return b""

        _walk(0, size, targets, 0, len(targets), lambda _: b"", note)
    return needed


def root_with(size: int, leaves: dict[int, str], subtrees: dict[tuple[int, int], bytes]) -> str:
    """The root of a tree of `size` leaves with the events `leaves` (leaf index -> event
    hash) at their places and the rest given by `subtrees` (proof_subtrees' ranges ->
    subtree hash): equal to a signed root only if those events are the ones signed there
    (multi-leaf inclusion proof, RFC 6962 hashing)."""
    if not size:
        return hashlib.sha256(b"").hexdigest()
    targets = sorted(leaves)
    node = _walk(
        0,
        size,
        targets,
        0,
        len(targets),
        lambda i: _leaf(leaves[i]),
        lambda lo, hi: subtrees[(lo, hi)],
    )
    return node.hex()


def subtree_hash(event_hexes: list[str]) -> bytes:
    """The hash of a complete subtree (a power of two of leaves), from its events' hashes."""
    nodes = [_leaf(h) for h in event_hexes]
    while len(nodes) > 1:
        nodes = [_node(nodes[i], nodes[i + 1]) for i in range(0, len(nodes), 2)]
    return nodes[0]


def checkpoint_message(position: int, size: int, root: str, recorded_at: str) -> bytes:
    """What a checkpoint's signature covers."""
    return json.dumps(
        {"position": position, "size": size, "root": root, "recordedAt": recorded_at},
        sort_keys=True,
        separators=(",", ":"),
    ).encode()


def signature_valid(public_key_b64: str, message: bytes, signature_b64: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
        key.verify(base64.b64decode(signature_b64), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def valid_public_key(public_key_b64: str) -> bool:
    """Whether this is a base64 Ed25519 public key at all (before blaming signatures)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64, validate=True))
    except ValueError:
        return False
    return True


@dataclasses.dataclass(frozen=True)
class Break:
    """The first place where history does not add up."""

    kind: str  # CHAIN_BROKEN, VERSION_GAP, OUT_OF_ORDER, ROOT_MISMATCH, BAD_SIGNATURE, ...
    position: int | None
    stream: str | None
    version: int | None
    detail: str

    def describe(self) -> str:
        """One line: what broke and where (a stream's version, or a checkpoint)."""
        if self.stream is None:
            where = f"at the checkpoint at position {self.position}"
        else:
            where = f"at position {self.position}, stream {self.stream}, version {self.version}"
        return f"BROKEN ({self.kind}) {where}: {self.detail}"


@dataclasses.dataclass(frozen=True)
class Record:
    position: int
    stream: str
    version: int
    topic: str
    fields: dict[str, Any]
    tag: str | None = None  # as stored; the offline verifier has no key to check it


def record_hash(record: Record) -> str:
    """A record's event hash."""
    return event_hash(record.stream, record.version, record.topic, record.fields)


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    position: int
    size: int
    root: str
    recorded_at: str
    signature: str

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> Checkpoint:
        """A checkpoint line of an export or of an anchor file."""
        return cls(
            item["position"], item["size"], item["root"], item["recordedAt"], item["signature"]
        )


class Verifier:
    """Feed records in log order and checkpoints when their position is reached; the
    first break is kept. Memory is one hash per stream, not per event."""

    def __init__(
        self,
        public_key_b64: str | None,
        *,
        partial: bool = False,
        hash_of: Callable[[Record], str] | None = None,
    ) -> None:
        self.public_key = public_key_b64
        self.partial = partial  # an export of one agreement or a time range
        # How an event's hash is taken: `record_hash` by default; the service's reader
        # passes one that writes the same canonical bytes faster.
        self.hash_of = hash_of or record_hash
        self.heads: dict[str, tuple[int, str]] = {}
        self.positions: dict[str, int] = {}  # where each stream's last event sits
        self.tree = MerkleFrontier()
        self.last_position = 0
        self.events = 0
        self.checkpoints = 0
        self.first_break: Break | None = None
        self.seen: dict[int, str] = {}  # checkpoints checked: position -> root
        self.anchors: list[Checkpoint] = []  # published outside the store: must remain

    def fail(self, found: Break) -> None:
        if self.first_break is None:
            self.first_break = found

    def add(self, record: Record) -> str:
        """Check the record against its stream's head; returns the event's hash."""
        self.events += 1
        if record.position <= self.last_position:
            self.fail(
                Break(
                    "OUT_OF_ORDER",
                    record.position,
                    record.stream,
                    record.version,
                    "positions must increase",
                )
            )
        self.last_position = record.position
        if self.partial and record.stream not in self.heads:
            # A partial export may start inside a stream: trust where it starts.
            self.heads[record.stream] = (
                record.version - 1,
                str(record.fields.get("previous_hash")),
            )
        version, head = self.heads.get(record.stream, (0, GENESIS))
        if record.version != version + 1:
            self.fail(
                Break(
                    "VERSION_GAP",
                    record.position,
                    record.stream,
                    record.version,
                    f"expected version {version + 1}, found {record.version}",
                )
            )
        if record.fields.get("previous_hash") != head:
            self.fail(
                Break(
                    "CHAIN_BROKEN",
                    record.position,
                    record.stream,
                    record.version,
                    f"the link from version {version} to version {record.version} is "
                    f"broken: version {record.version}'s previous_hash is not the hash of "
                    f"version {version} as stored, so version {version} (or an earlier "
                    "one) was edited, removed or reordered",
                )
            )
        digest = self.hash_of(record)
        self.heads[record.stream] = (record.version, digest)
        self.tree.append(digest)
        return digest

    def check(self, checkpoint: Checkpoint) -> None:
        """Call after every record up to `checkpoint.position` was added."""
        self.checkpoints += 1
        self.seen[checkpoint.position] = checkpoint.root
        if not self._signed(checkpoint):
            self.fail(
                Break(
                    "BAD_SIGNATURE",
                    checkpoint.position,
                    None,
                    None,
                    "the checkpoint's signature does not match the public key",
                )
            )
        if not self.partial and (self.tree.size, self.tree.root()) != (
            checkpoint.size,
            checkpoint.root,
        ):
            self.fail(
                Break(
                    "ROOT_MISMATCH",
                    checkpoint.position,
                    None,
                    None,
                    f"{self.tree.size} events up to this position hash to a root "
                    f"other than the signed one ({checkpoint.size} events): events "
                    "were edited, inserted or deleted",
                )
            )

    def _signed(self, checkpoint: Checkpoint) -> bool:
        if self.public_key is None:
            return True
        message = checkpoint_message(
            checkpoint.position, checkpoint.size, checkpoint.root, checkpoint.recorded_at
        )
        return signature_valid(self.public_key, message, checkpoint.signature)

    def finish(self) -> None:
        """Call at the end: every anchored checkpoint (one published outside the store,
        `crafting checkpoint --publish`) must still be there with the same root, and the
        log must still reach it. Inside the store, deleting the tail after the last
        checkpoint, or that checkpoint itself, leaves nothing to compare with."""
        for anchor in self.anchors:
            if not self._signed(anchor):
                self.fail(
                    Break(
                        "BAD_ANCHOR",
                        anchor.position,
                        None,
                        None,
                        "a published checkpoint's signature does not match the public key",
                    )
                )
            elif self.seen.get(anchor.position) != anchor.root:
                self.fail(
                    Break(
                        "ANCHOR_MISSING",
                        anchor.position,
                        None,
                        None,
                        "a checkpoint published outside the store is missing or differs: "
                        "checkpoints or the events they covered were removed or rewritten",
                    )
                )
            elif not self.partial and self.last_position < anchor.position:
                self.fail(
                    Break(
                        "TRUNCATED",
                        anchor.position,
                        None,
                        None,
                        f"the log ends at position {self.last_position}, before a "
                        "published checkpoint: its tail was removed",
                    )
                )


def read_anchors(lines: Iterable[str]) -> list[Checkpoint]:
    """Checkpoints published with `crafting checkpoint --publish` (JSON Lines)."""
    return [Checkpoint.from_json(json.loads(line)) for line in lines if line.strip()]


def verify_export(
    lines: Iterable[str], public_key_b64: str, anchors: Iterable[Checkpoint] = ()
) -> Verifier:
    """Verify an export (JSON Lines of events and checkpoints, in log order)."""
    verifier = Verifier(public_key_b64)
    verifier.anchors = list(anchors)
    pending: list[Checkpoint] = []
    checked: list[Checkpoint] = []
    proofs: list[dict[str, Any]] = []
    hashes: dict[tuple[str, int], str] = {}  # of a partial export's events, for its proofs
    for line in lines:
        if not line.strip():
            continue
        item = json.loads(line)
        if item["kind"] == "header":
            verifier.partial = item.get("scope") != "all"
        elif item["kind"] == "checkpoint":
            pending.append(Checkpoint.from_json(item))
        elif item["kind"] == "proof":
            proofs.append(item)
        elif item["kind"] == "event":
            for ready in _due(pending, item["position"]):
                verifier.check(ready)
                checked.append(ready)
            verifier.add(
                Record(
                    item["position"], item["stream"], item["version"], item["topic"], item["fields"]
                )
            )
            if verifier.partial:
                hashes[(item["stream"], item["version"])] = verifier.heads[item["stream"]][1]
            check_openings(verifier, item)
    for ready in _due(pending, None):
        verifier.check(ready)
        checked.append(ready)
    for proof in proofs:
        check_proof(verifier, proof, checked, hashes)
    verifier.finish()
    return verifier


def check_proof(
    verifier: Verifier,
    proof: dict[str, Any],
    checkpoints: list[Checkpoint],
    hashes: dict[tuple[str, int], str],
) -> None:
    """A partial export's inclusion proof (`kind: proof`): the stream's events it names,
    hashed as exported, at their leaves of the signed checkpoint's Merkle tree, with the
    other subtrees it gives, must hash to that checkpoint's signed root. So one
    agreement's events are proven part of the whole log without the rest of it."""
    stream = str(proof["stream"])
    signed = next((c for c in checkpoints if c.position == proof["checkpoint"]), None)
    leaves: dict[int, str] = {}
    for version, leaf in proof["leaves"].items():
        digest = hashes.get((stream, int(version)))
        if digest is None:
            verifier.fail(
                Break(
                    "PROOF_INCOMPLETE",
                    None,
                    stream,
                    int(version),
                    "the proof names an event the export does not hold",
                )
            )
            return
        leaves[int(leaf)] = digest
    subtrees = {(int(lo), int(hi)): bytes.fromhex(h) for lo, hi, h in proof["subtrees"]}
    try:
        root = None if signed is None else root_with(signed.size, leaves, subtrees)
    except (KeyError, ValueError):
        root = None
    if signed is None or root != signed.root:
        verifier.fail(
            Break(
                "NOT_IN_CHECKPOINT",
                proof["checkpoint"],
                None,
                None,
                f"the events of {stream} do not prove part of the signed checkpoint at "
                f"position {proof['checkpoint']}: they were edited, or the proof is not its",
            )
        )


def check_openings(verifier: Verifier, item: dict[str, Any]) -> None:
    """An export's event line may carry its sealed texts opened (format 2): each one
    must be what its envelope in the hashed fields holds, under the key given with it."""
    openings = item.get("opened") or {}
    if not openings:
        return
    present = set(strings_in(item["fields"]))
    for envelope, opening in openings.items():
        if envelope not in present or not _opens(envelope, opening["key"], opening["text"]):
            verifier.fail(
                Break(
                    "OPENING_MISMATCH",
                    item["position"],
                    item["stream"],
                    item["version"],
                    "an opened text is not what the event's sealed value holds",
                )
            )
            return


def strings_in(value: Any) -> Iterator[str]:
    """Every string in a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings_in(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings_in(v)


def _opens(envelope: str, key_b64: str, text: str) -> bool:
    """Whether the value key opens the envelope to `text`: the format of
    domain/sealing.py (salt, commit, AES-256-GCM with the key id as associated data),
    repeated here so that this file stays standalone."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        kid, _, body = envelope.removeprefix(SEALED_PREFIX).partition(".")
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        key = base64.b64decode(key_b64, validate=True)
        commit = hmac.new(key, b"commit", hashlib.sha256).digest()[:16]
        if not envelope.startswith(SEALED_PREFIX) or not hmac.compare_digest(raw[16:32], commit):
            return False
        opened: str = AESGCM(key).decrypt(bytes(12), raw[32:], kid.encode()).decode()
    except Exception:
        return False
    return opened == text


def _due(pending: list[Checkpoint], next_position: int | None) -> Iterator[Checkpoint]:
    while pending and (next_position is None or pending[0].position < next_position):
        yield pending.pop(0)


def main(argv: list[str] | None = None) -> int:
    """Standalone: verify an export file against the service's public key."""
    parser = argparse.ArgumentParser(description="Verify a crafting export independently.")
    parser.add_argument("export", help="the .jsonl file written by `crafting export`")
    parser.add_argument("--public-key", required=True, help="base64 Ed25519 public key")
    parser.add_argument(
        "--anchors",
        help="checkpoints published outside the store (crafting checkpoint --publish): "
        "each must still be in the export, and the log must reach it",
    )
    args = parser.parse_args(argv)
    if not valid_public_key(args.public_key):
        print("--public-key is not a base64 Ed25519 public key (`crafting keys` prints it).")
        return 2
    anchors: list[Checkpoint] = []
    if args.anchors:
        with open(args.anchors, encoding="utf-8") as handle:
            anchors = read_anchors(handle)
    with open(args.export, encoding="utf-8") as handle:
        result = verify_export(handle, args.public_key, anchors)
    if result.first_break is None:
        scope = " (partial export: chains and signatures only)" if result.partial else ""
        print(f"OK: {result.events} events, {result.checkpoints} checkpoints verified{scope}.")
        return 0
    print(result.first_break.describe())
    return 1


if __name__ == "__main__":
    sys.exit(main())
