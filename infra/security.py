"""Customer PII at rest, and signed values for H5 sessions and links."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")


def _derive(secret: str, purpose: bytes) -> bytes:
    # Separate keys for separate jobs: encrypting and indexing must not share a key.
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"relay", info=purpose).derive(secret.encode())


def normalize_phone(raw: str) -> str:
    """Digits only, without the +86 / 0086 country prefix."""
    digits = re.sub(r"\D", "", raw)
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
    return digits


def is_mobile(phone: str) -> bool:
    return bool(PHONE_RE.match(phone))


class PiiVault:
    """Encrypts customer phones (Fernet) and computes their blind index (keyed HMAC)."""

    def __init__(self, pii_key: str) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(pii_key, b"pii-encrypt")))
        self._index_key = _derive(pii_key, b"pii-blind-index")

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, token: str) -> str:
        return self._fernet.decrypt(token.encode()).decode()

    def blind_index(self, phone: str) -> str:
        return hmac.new(self._index_key, normalize_phone(phone).encode(), hashlib.sha256).hexdigest()


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) == 11 else phone


class Signer:
    """Signed, expiring values: the H5 session cookie and the OAuth state."""

    def __init__(self, secret_key: str, salt: str) -> None:
        self._s = URLSafeTimedSerializer(secret_key, salt=salt)

    def dumps(self, value: object) -> str:
        return self._s.dumps(value)

    def loads(self, token: str, max_age: int) -> object | None:
        try:
            return self._s.loads(token, max_age=max_age)
        except (BadSignature, SignatureExpired):
            return None
