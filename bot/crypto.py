"""WeCom callback crypto (90968): signature checked in constant time, then AES-CBC via wechatpy's cipher."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import xmltodict
from wechatpy.enterprise.crypto import PrpCrypto


class CallbackRejected(Exception):
    """The callback is not from WeCom, or cannot be read. `status` is the HTTP answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def sign(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()


class CallbackCrypto:
    def __init__(self, *, token: str, encoding_aes_key: str, corp_id: str) -> None:
        self.token = token
        self.corp_id = corp_id
        self._key = base64.b64decode(encoding_aes_key + "=")

    def _verify(self, signature: str, timestamp: str, nonce: str, encrypted: str) -> None:
        expected = sign(self.token, timestamp, nonce, encrypted)
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise CallbackRejected(403, "invalid signature")

    def _decrypt(self, encrypted: str) -> str:
        try:
            return PrpCrypto(self._key).decrypt(encrypted, self.corp_id)
        except Exception as exc:  # wrong corp id, bad padding, bad base64: all unreadable
            raise CallbackRejected(400, "cannot decrypt") from exc

    def verify_url(self, *, signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """GET verification: the decrypted echostr, to be answered verbatim."""
        self._verify(signature, timestamp, nonce, echostr)
        return self._decrypt(echostr)

    def decrypt_callback(self, *, body: bytes, signature: str, timestamp: str, nonce: str) -> dict[str, str]:
        """The POST body's inner message as a flat dict of its XML fields."""
        outer = parse_xml(body)
        encrypted = outer.get("Encrypt")
        if not isinstance(encrypted, str) or not encrypted:
            raise CallbackRejected(400, "no Encrypt element")
        self._verify(signature, timestamp, nonce, encrypted)
        return parse_xml(self._decrypt(encrypted).encode())

    def encrypt_reply(self, xml: str, *, nonce: str | None = None, timestamp: str | None = None) -> str:
        """A passive reply (90241), signed like a callback."""
        nonce = nonce or secrets.token_hex(8)
        timestamp = timestamp or str(int(time.time()))
        encrypted = PrpCrypto(self._key).encrypt(xml, self.corp_id).decode()
        signature = sign(self.token, timestamp, nonce, encrypted)
        return (
            f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt><MsgSignature><![CDATA[{signature}]]>"
            f"</MsgSignature><TimeStamp>{timestamp}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>"
        )


def parse_xml(data: bytes) -> dict:
    try:
        # expat refuses external entities; disable_entities also drops internal DTD entities.
        doc = xmltodict.parse(data, disable_entities=True)
    except Exception as exc:
        raise CallbackRejected(400, "malformed XML") from exc
    root = doc.get("xml") if isinstance(doc, dict) else None
    if not isinstance(root, dict):
        raise CallbackRejected(400, "malformed XML: no <xml> root")
    return root
