"""Personal data sealed under its data subject's key (crypto-shredding, issue 14).

Where an event holds personal data it stores a `Sealed` value: the envelope
`\\x1es1.<kid>.<base64url(salt | commit | ciphertext and tag)>`. Each value has its own
key, derived from the subject's data key and a random salt (HMAC-SHA256), so
AES-256-GCM can use a fixed nonce, and an export can open one value by carrying its
value key without giving away the data key. The commit (an HMAC of the value key) lets
a verifier check that a value key it was given is the one the value was sealed with.
The hash chains cover the envelope (`domain.integrity.plain` stores its
`stored_form()`): destroying a subject's data key erases every value sealed under it
while the history still verifies. User text never holds `\\x1e` (domain.values refuses
it), so no input can pass for an envelope.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "\x1es1."
ERASED = "[erased]"  # what every reader shows where an erased subject's data was
_KID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SALT, _COMMIT = 16, 16
_NONCE = bytes(12)  # fixed: every value key seals exactly one value


class SealError(Exception):
    """An envelope that is malformed, or that does not open with the key given."""


class Sealed:
    """A sealed value as stored; equal when the envelope is the same."""

    __slots__ = ("envelope",)

    def __init__(self, envelope: str) -> None:
        kid, _, body = envelope.removeprefix(PREFIX).partition(".")
        if not envelope.startswith(PREFIX) or not _KID.match(kid) or not body:
            raise SealError("Not a sealed value.")
        self.envelope = envelope

    @property
    def kid(self) -> str:
        """The id of the data key it was sealed under (whose subject it belongs to)."""
        return self.envelope[len(PREFIX) :].partition(".")[0]

    def stored_form(self) -> str:
        """What is stored and hashed: the envelope."""
        return self.envelope

    def parts(self) -> tuple[bytes, bytes, bytes]:
        """Salt, commit, and ciphertext with its tag."""
        raw = _unb64(self.envelope[len(PREFIX) :].partition(".")[2])
        if len(raw) < _SALT + _COMMIT + 16:
            raise SealError("Not a sealed value.")
        return raw[:_SALT], raw[_SALT : _SALT + _COMMIT], raw[_SALT + _COMMIT :]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sealed) and other.envelope == self.envelope

    def __hash__(self) -> int:
        return hash(self.envelope)

    def __repr__(self) -> str:
        return f"Sealed(kid={self.kid!r})"  # never the text, not even encrypted


def new_data_key() -> bytes:
    """A fresh 256-bit data key for one subject."""
    return secrets.token_bytes(32)


def value_key(data_key: bytes, salt: bytes) -> bytes:
    """The key of the one value sealed with `salt` under `data_key`."""
    return hmac.new(data_key, b"crafting/sealed/v1|" + salt, hashlib.sha256).digest()


def seal(kid: str, data_key: bytes, text: str) -> Sealed:
    """`text` sealed under the data key `kid`."""
    if not _KID.match(kid):
        raise ValueError("A key id is 1 to 64 letters, digits, '-' or '_'.")
    salt = secrets.token_bytes(_SALT)
    key = value_key(data_key, salt)
    ciphertext = AESGCM(key).encrypt(_NONCE, text.encode(), kid.encode())
    return Sealed(f"{PREFIX}{kid}.{_b64(salt + _commit(key) + ciphertext)}")


def opened(sealed: Sealed, data_key: bytes) -> str:
    """The text, with the subject's data key; SealError if the key is not its key."""
    salt, _, _ = sealed.parts()
    return opened_with(sealed, value_key(data_key, salt))


def opened_with(sealed: Sealed, key: bytes) -> str:
    """The text, with the value's own key (as an export carries it)."""
    _, commit, ciphertext = sealed.parts()
    if not hmac.compare_digest(commit, _commit(key)):
        raise SealError("This key did not seal this value.")
    try:
        return AESGCM(key).decrypt(_NONCE, ciphertext, sealed.kid.encode()).decode()
    except InvalidTag:
        raise SealError("The sealed value was altered.") from None


def _commit(key: bytes) -> bytes:
    return hmac.new(key, b"commit", hashlib.sha256).digest()[:_COMMIT]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        raise SealError("Not a sealed value.") from None
