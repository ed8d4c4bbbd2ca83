"""Orders' hooks as settlement interactions through the hooks trampoline.

The settlement never calls a hook itself: an order's pre-hooks become one pre-interaction
``trampoline.execute(hooks)`` (before the sellers' tokens are pulled), its post-hooks one
post-interaction (after the buyers are paid), as CoW's orderbook turns them into an order's
``preInteractions``/``postInteractions``. The trampoline (``devnet/contracts/
HooksTrampoline.sol``) runs each hook with its own gas limit, refuses any caller but the
settlement, and reports a hook that reverted with ``HookFailed(keccak256(abi.encode(target,
callData, gasLimit)))`` instead of reverting the batch.

Gas: a settlement declares the gas its hooks ask for (CoW's quote adds ``Hooks::gas_limit``
too) plus the trampoline's own cost per call and per hook. The transaction is sent with
headroom over its estimate: a fourth of the hooks' gas plus 30,000 (the figure of the CoW
report the issue cites; CoW's current source has no such constant: its driver sends twice
the estimate, and its trampoline, like ours, fails the whole call when it cannot forward a
hook its gas, so ``eth_estimateGas`` already gives every hook what it asked for).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from eth_abi.abi import decode, encode
from eth_utils.crypto import keccak

from intents.hooks import Hook
from intents.types import Address
from settlement.encoding import Interaction
from settlement.jsonrpc import BatchingRpcClient

HOOK_TYPE = "(address,bytes,uint256)"
EXECUTE = keccak(text=f"execute({HOOK_TYPE}[])")[:4]
HOOK_FAILED_TOPIC = keccak(text="HookFailed(bytes32)")

EXECUTE_GAS = 7_000
"""The cost of one ``execute`` call from a settlement beyond its hooks: the cold call
(2,600), calldata, decoding and the result array (6,228 measured on the devnet with the
cold call, ``tests/devnet/test_hooks_trampoline.py``), and the settlement's interaction
loop."""
HOOK_GAS = 5_000
"""The cost of one hook beyond its gas limit: its calldata, the gas check, the call, and a
``HookFailed`` event if it fails (4,700 measured with the event)."""
HEADROOM_GAS = 30_000
HEADROOM_DIVISOR = 4


def execute_calldata(hooks: Sequence[Hook]) -> bytes:
    """``execute(hooks)``'s calldata."""
    return EXECUTE + encode(
        [f"{HOOK_TYPE}[]"], [[(h.target, h.call_data, h.gas_limit) for h in hooks]]
    )


def hooks_interaction(trampoline: Address, hooks: Sequence[Hook]) -> Interaction:
    """The settlement interaction running ``hooks`` through ``trampoline``."""
    return Interaction(trampoline, 0, execute_calldata(hooks))


def hooks_gas(hooks: Sequence[Hook]) -> int:
    """The gas one ``execute(hooks)`` is declared with (none for no hooks)."""
    return EXECUTE_GAS + sum(h.gas_limit + HOOK_GAS for h in hooks) if hooks else 0


def headroom_gas(hooks_gas_limit: int) -> int:
    """Gas sent beyond a settlement's estimate for hooks asking ``hooks_gas_limit``."""
    return hooks_gas_limit // HEADROOM_DIVISOR + HEADROOM_GAS if hooks_gas_limit else 0


def hook_id(hook: Hook) -> bytes:
    """What ``HookFailed`` names a hook by."""
    return keccak(
        encode(["address", "bytes", "uint256"], [hook.target, hook.call_data, hook.gas_limit])
    )


def failed_hook_ids(receipt: Mapping[str, Any], trampoline: Address) -> list[bytes]:
    """The ids of the hooks that failed in a transaction, from its receipt's logs."""
    failed = []
    for log in receipt.get("logs", ()):
        topics = log.get("topics", ())
        if (
            str(log.get("address", "")).lower() == trampoline
            and len(topics) == 2
            and bytes.fromhex(topics[0][2:]) == HOOK_FAILED_TOPIC
        ):
            failed.append(bytes.fromhex(topics[1][2:]))
    return failed


def failed_hooks(
    receipt: Mapping[str, Any], trampoline: Address, hooks: Iterable[Hook]
) -> list[Hook]:
    """Which of ``hooks`` (those a settlement ran) its receipt reports failed."""
    ids = set(failed_hook_ids(receipt, trampoline))
    return [h for h in hooks if hook_id(h) in ids]


class RpcHookSimulator:
    """``HookSimulator`` on a node: ``eth_call`` of ``execute`` from the settlement's address
    (the trampoline accepts no other caller), on the latest block."""

    def __init__(self, rpc: BatchingRpcClient, settlement: Address, trampoline: Address) -> None:
        self.rpc = rpc
        self.settlement = settlement
        self.trampoline = trampoline

    async def simulate_hooks(self, hooks: Sequence[Hook]) -> list[bool]:
        if not hooks:
            return []
        gas = 2 * sum(h.gas_limit for h in hooks) + 100_000  # each hook gets all it asks
        call = {
            "from": self.settlement,
            "to": self.trampoline,
            "data": "0x" + execute_calldata(hooks).hex(),
            "gas": hex(gas),
        }
        result = await self.rpc.call("eth_call", [call, "latest"])
        (succeeded,) = decode(["bool[]"], bytes.fromhex(str(result)[2:]))
        return [bool(s) for s in succeeded]
