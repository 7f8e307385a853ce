"""Encryption at rest and keyed hashes."""

from __future__ import annotations

import pytest

from storage.crypto import Crypto, InvalidToken

SECRET = "s" * 40


def test_round_trips_and_never_stores_plaintext() -> None:
    crypto = Crypto([Crypto.generate_key()], SECRET)
    token = crypto.encrypt_text("Его били в ИВС")
    assert "Его".encode() not in token and crypto.decrypt_text(token) == "Его били в ИВС"
    assert crypto.decrypt_json(crypto.encrypt_json({"a": ["б", 1]})) == {"a": ["б", 1]}
    assert crypto.encrypt(b"x") != crypto.encrypt(b"x")  # random IV: equal texts look different


def test_rotation_first_key_encrypts_all_decrypt() -> None:
    old, new = Crypto.generate_key(), Crypto.generate_key()
    before = Crypto([old], SECRET).encrypt(b"kept")
    rotated = Crypto([new, old], SECRET)
    assert rotated.decrypt(before) == b"kept"
    fresh = rotated.encrypt(b"new")
    with pytest.raises(InvalidToken):
        Crypto([old], SECRET).decrypt(fresh)
    assert Crypto([new], SECRET).decrypt(rotated.rotate(before)) == b"kept"


def test_keyed_hashes_are_secret_and_domain_separated() -> None:
    a = Crypto([Crypto.generate_key()], SECRET)
    b = Crypto([Crypto.generate_key()], "t" * 40)
    assert a.keyed_hash("reporter", 42) == a.keyed_hash("reporter", "42")
    assert a.keyed_hash("reporter", 42) != a.keyed_hash("account", 42)
    assert a.keyed_hash("reporter", 42) != b.keyed_hash("reporter", 42)
    assert "42" not in a.log_ref(42) and len(a.log_ref(42)) == 10


def test_weak_configuration_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one data key"):
        Crypto([], SECRET)
    with pytest.raises(ValueError, match="at least 32 characters"):
        Crypto([Crypto.generate_key()], "short")
