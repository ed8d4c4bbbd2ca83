"""``keccak256`` (the pre-standard SHA-3 Ethereum uses), via pycryptodome's C core.

``Crypto.Hash.keccak.new`` spends most of its ~7 µs per call building Python wrapper objects;
hashing an order needs three keccaks, so this drives pycryptodome's C functions directly with
one reusable state per thread (~3 µs). The fast path checks itself against a known vector
at import and otherwise falls back to the public API.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from Crypto.Hash import keccak as _keccak

log = logging.getLogger(__name__)

_EMPTY_HASH = bytes.fromhex("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")


def _portable(data: bytes) -> bytes:
    return _keccak.new(digest_bits=256, data=data).digest()


class _Fast(threading.local):
    """A keccak-256 state of pycryptodome's C core, reset before every hash."""

    def __init__(self) -> None:
        raw: Any = importlib.import_module("Crypto.Util._raw_api")
        self.lib: Any = _keccak._raw_keccak_lib  # type: ignore[attr-defined]
        state = raw.VoidPointer()
        if self.lib.keccak_init(state.address_of(), raw.c_size_t(64), raw.c_ubyte(24)):
            raise RuntimeError("keccak_init failed")
        self.owner = raw.SmartPointer(state.get(), self.lib.keccak_destroy)
        self.state = self.owner.get()
        self.out = raw.create_string_buffer(32)
        self.read = raw.get_raw_buffer

    def hash(self, data: bytes) -> bytes:
        lib, state = self.lib, self.state
        lib.keccak_reset(state)
        lib.keccak_absorb(state, data, len(data))
        lib.keccak_digest(state, self.out, 32, 1)
        digest: bytes = self.read(self.out)
        return digest


def _select() -> Callable[[bytes], bytes]:
    try:
        fast = _Fast()
        if fast.hash(b"") == _EMPTY_HASH and fast.hash(b"abc") == _portable(b"abc"):
            return fast.hash
        reason = "it hashes known vectors wrongly"
    except Exception as exc:  # pycryptodome internals differ: use its public API
        reason = f"{type(exc).__name__}: {exc}"
    log.warning("keccak256: pycryptodome's C core is unusable (%s); using its slower API", reason)
    return _portable


keccak256: Callable[[bytes], bytes] = _select()
"""``keccak256(data)``: the 32-byte hash."""
