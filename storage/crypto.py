"""Encryption at rest (MultiFernet, so keys rotate) and keyed hashes for linkage.

Nothing that identifies a reporter is stored in the clear: free text, names and files are
Fernet tokens, and Telegram ids only ever appear as HMACs under a secret kept outside the DB.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

__all__ = ["Crypto", "InvalidToken"]


class Crypto:
    def __init__(self, data_keys: list[str], hmac_secret: str) -> None:
        if not data_keys:
            raise ValueError("at least one data key is needed")
        if len(hmac_secret) < 32:
            raise ValueError("the HMAC secret must be at least 32 characters")
        # The first key encrypts; every key decrypts (rotation: prepend the new key).
        self._data_keys = list(data_keys)
        self._fernet = MultiFernet([Fernet(k.encode()) for k in data_keys])
        self._secret = hmac_secret.encode()

    # --- encryption -------------------------------------------------------------------------
    def encrypt(self, data: bytes) -> bytes:
        return self._fernet.encrypt(data)

    def decrypt(self, token: bytes) -> bytes:
        return self._fernet.decrypt(token)

    def encrypt_text(self, text: str) -> bytes:
        return self.encrypt(text.encode("utf-8"))

    def decrypt_text(self, token: bytes) -> str:
        return self.decrypt(token).decode("utf-8")

    def encrypt_json(self, obj: Any) -> bytes:
        return self.encrypt(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))

    def decrypt_json(self, token: bytes) -> Any:
        return json.loads(self.decrypt(token))

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt a token under the current primary key."""
        return self._fernet.rotate(token)

    def first_key_only(self) -> Crypto:
        """The same secret with only the first data key: what remains once old keys retire."""
        return Crypto(self._data_keys[:1], self._secret.decode())

    # --- keyed hashes -----------------------------------------------------------------------
    def keyed_hash(self, purpose: str, value: str | int) -> str:
        """HMAC-SHA256 of `value`, domain-separated by `purpose`, as hex.

        Purposes keep hashes of the same id unlinkable across tables (an account hash
        cannot be matched against a reporter hash without the secret).
        """
        msg = f"{purpose}\x00{value}".encode()
        return hmac.new(self._secret, msg, hashlib.sha256).hexdigest()

    def log_ref(self, value: str | int) -> str:
        """A short, non-reversible reference safe for log lines."""
        return self.keyed_hash("log", value)[:10]

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode()
