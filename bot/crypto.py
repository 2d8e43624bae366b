"""WeCom callback crypto (90968): signature checked in constant time, then AES-CBC via wechatpy's cipher."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from typing import Any
from xml.parsers import expat

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
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
        # AES-256-CBC with IV = key[:16] (91144): one cipher for every message, a decryptor each.
        self._cipher = Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))
        self._corp_id = corp_id.encode()

    def _verify(self, signature: str, timestamp: str, nonce: str, encrypted: str) -> None:
        expected = sign(self.token, timestamp, nonce, encrypted)
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise CallbackRejected(403, "invalid signature")

    def _decrypt(self, encrypted: str) -> str:
        """random(16) + len(msg) as 4 bytes big-endian + msg + receiveid, PKCS#7-padded to 32 (91144)."""
        try:
            data = base64.b64decode(encrypted, validate=True)
            decryptor = self._cipher.decryptor()
            plain = decryptor.update(data) + decryptor.finalize()
            pad = plain[-1]
            if not 1 <= pad <= 32 or plain[-pad:] != bytes([pad]) * pad:
                raise ValueError("bad padding")
            content = plain[16:-pad]
            (length,) = struct.unpack(">I", content[:4])
            if content[4 + length :] != self._corp_id:
                raise ValueError("for another receiver")
            return content[4 : 4 + length].decode()
        except Exception as exc:  # wrong corp id, bad padding, bad base64, bad length: all unreadable
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


class _Refused(Exception):
    pass


def _refuse(*_: object) -> None:
    raise _Refused


class _Flat:
    """Builds what WeCom's XML holds (90239/90240): an element with only text is its text (stripped; None
    when empty), one with children a dict of them, a repeated child a list. Attributes, which WeCom
    never sends, are kept as "@name" and the text beside them as "#text"."""

    def __init__(self) -> None:
        self.stack: list[tuple[str, dict[str, Any] | None, list[str]]] = []
        self.root: tuple[str, Any] | None = None

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.stack.append((name, {"@" + k: v for k, v in attrs.items()} if attrs else None, []))

    def text(self, data: str) -> None:
        if self.stack:
            self.stack[-1][2].append(data)

    def end(self, _name: str) -> None:
        name, children, texts = self.stack.pop()
        text = "".join(texts).strip() if texts else ""
        value: Any
        if children is None:
            value = text or None
        else:
            if text:
                children["#text"] = text
            value = children
        if not self.stack:
            self.root = (name, value)
            return
        parent_name, parent, parent_texts = self.stack[-1]
        if parent is None:
            parent = {}
            self.stack[-1] = (parent_name, parent, parent_texts)
        if name in parent:
            existing = parent[name]
            if isinstance(existing, list):
                existing.append(value)
            else:
                parent[name] = [existing, value]
        else:
            parent[name] = value


def parse_xml(data: bytes) -> dict[str, Any]:
    """WeCom's <xml>…</xml> as a dict of its fields. A DTD or entity declaration is refused outright:
    WeCom never sends one, and it is how entity-expansion and external-entity attacks begin."""
    flat = _Flat()
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = flat.start
    parser.EndElementHandler = flat.end
    parser.CharacterDataHandler = flat.text
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.UnparsedEntityDeclHandler = _refuse
    parser.NotationDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse
    try:
        parser.Parse(data, True)
    except _Refused as exc:
        raise CallbackRejected(400, "malformed XML: a DTD or entity") from exc
    except Exception as exc:
        raise CallbackRejected(400, "malformed XML") from exc
    if flat.root is None or flat.root[0] != "xml" or not isinstance(flat.root[1], dict):
        raise CallbackRejected(400, "malformed XML: no <xml> root")
    return flat.root[1]
