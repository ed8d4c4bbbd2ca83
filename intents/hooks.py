"""An order's hooks: the calls its app data asks to run before and after its trade.

CoW's app-data schema puts them under ``metadata.hooks``: ``{"pre": [...], "post": [...]}``,
each hook ``{"target": "0x…", "callData": "0x…", "gasLimit": "<decimal>"}`` (other keys,
such as ``dappId``, are ignored). Pre-hooks run before the settlement pulls the sellers'
tokens (a permit, say), on the order's first fill only; post-hooks after the buyers are paid.
Both run through the hooks trampoline, never as the settlement contract itself
(``settlement.hooks``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import msgspec

from intents.errors import ErrorCode, OrderError
from intents.types import Address

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_HEX = re.compile(r"0x(?:[0-9a-fA-F]{2})*")
_json_decoder = msgspec.json.Decoder()


@dataclass(frozen=True, slots=True)
class Hook:
    """``target.call{gas: gas_limit}(call_data)``, made by the trampoline."""

    target: Address
    call_data: bytes
    gas_limit: int


@dataclass(frozen=True, slots=True)
class Hooks:
    pre: tuple[Hook, ...] = ()
    post: tuple[Hook, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.pre or self.post)

    @property
    def gas_limit(self) -> int:
        """The gas every hook asks for, pre and post (CoW's ``Hooks::gas_limit``)."""
        return sum(h.gas_limit for h in (*self.pre, *self.post))


NO_HOOKS = Hooks()


class HookSimulator(Protocol):
    async def simulate_hooks(self, hooks: Sequence[Hook]) -> list[bool]:
        """Run ``hooks`` in order through the trampoline as the settlement would (on the
        latest state, nothing committed); whether each one succeeded."""
        ...


def hooks_of(document: str | None) -> Hooks:
    """The hooks of an app-data document (none without a document or without
    ``metadata.hooks``). Raises ``OrderError`` ``InvalidAppData`` for malformed hooks."""
    if document is None:
        return NO_HOOKS
    try:
        raw = _json_decoder.decode(document)
    except msgspec.DecodeError:
        return NO_HOOKS  # not ours to judge here: ``resolve_app_data`` refuses it
    metadata = raw.get("metadata") if isinstance(raw, dict) else None
    hooks = metadata.get("hooks") if isinstance(metadata, dict) else None
    if hooks is None:
        return NO_HOOKS
    if not isinstance(hooks, dict):
        raise _invalid("metadata.hooks must be an object")
    return Hooks(_stage(hooks, "pre"), _stage(hooks, "post"))


def _stage(hooks: dict[str, Any], stage: str) -> tuple[Hook, ...]:
    entries = hooks.get(stage, [])
    if not isinstance(entries, list):
        raise _invalid(f"metadata.hooks.{stage} must be a list")
    return tuple(_hook(entry, f"metadata.hooks.{stage}[{i}]") for i, entry in enumerate(entries))


def _hook(entry: object, path: str) -> Hook:
    if not isinstance(entry, dict):
        raise _invalid(f"{path} must be an object")
    target, call_data, gas_limit = (entry.get(k) for k in ("target", "callData", "gasLimit"))
    if not isinstance(target, str) or not _ADDRESS.fullmatch(target):
        raise _invalid(f"{path}.target must be a 0x-prefixed 20-byte address")
    if not isinstance(call_data, str) or not _HEX.fullmatch(call_data):
        raise _invalid(f"{path}.callData must be 0x-prefixed hex bytes")
    # CoW's schema writes the gas limit as a decimal string; a JSON integer is accepted too
    if isinstance(gas_limit, str) and gas_limit.isdecimal():
        gas_limit = int(gas_limit)
    if isinstance(gas_limit, bool) or not isinstance(gas_limit, int) or not 0 < gas_limit < 2**64:
        raise _invalid(f"{path}.gasLimit must be a positive decimal gas amount below 2^64")
    return Hook(Address(target.lower()), bytes.fromhex(call_data[2:]), gas_limit)


def _invalid(description: str) -> OrderError:
    return OrderError(ErrorCode.INVALID_APP_DATA, f"app data hooks: {description}")
