"""Chain reads the conditional-order releaser needs: a Chainlink-style aggregator's latest
answer (``latestRoundData()``, ``decimals()``) and the chain's clock (the latest block's
timestamp)."""

from __future__ import annotations

from dataclasses import dataclass

from intents.wire import to_hex
from settlement.jsonrpc import BatchingRpcClient, ChainReadError

LATEST_ROUND_DATA = bytes.fromhex("feaf968c")  # latestRoundData()
DECIMALS = bytes.fromhex("313ce567")  # decimals()
UINT8_MAX = 255


@dataclass(frozen=True, slots=True)
class OracleAnswer:
    answer: int  # int256, in ``decimals`` decimals
    updated_at: int  # unix seconds
    decimals: int


def _int256(word: bytes) -> int:
    value = int.from_bytes(word, "big")
    return value - 2**256 if value >= 2**255 else value


async def latest_answers(rpc: BatchingRpcClient, oracles: list[str]) -> list[OracleAnswer | None]:
    """Each oracle's latest round, in one batch; None where a call fails or returns too
    little (no contract, not an aggregator) or ``decimals()`` is no ``uint8`` (Solidity's
    ABI decoder reverts there, and a larger exponent is no price)."""
    calls = []
    for oracle in oracles:
        calls.append(("eth_call", [{"to": oracle, "data": to_hex(LATEST_ROUND_DATA)}, "latest"]))
        calls.append(("eth_call", [{"to": oracle, "data": to_hex(DECIMALS)}, "latest"]))
    replies = await rpc.request_many(calls)
    answers: list[OracleAnswer | None] = []
    for i in range(0, len(replies), 2):
        round_reply, decimals_reply = replies[i], replies[i + 1]
        if round_reply.error is not None or decimals_reply.error is not None:
            answers.append(None)
            continue
        data = bytes.fromhex(str(round_reply.result)[2:])
        decimals = bytes.fromhex(str(decimals_reply.result)[2:])
        places = int.from_bytes(decimals[:32], "big")
        if len(data) < 160 or len(decimals) < 32 or places > UINT8_MAX:
            answers.append(None)
            continue
        answers.append(
            OracleAnswer(
                answer=_int256(data[32:64]),
                updated_at=int.from_bytes(data[96:128], "big"),
                decimals=places,
            )
        )
    return answers


async def chain_time(rpc: BatchingRpcClient) -> int:
    """The latest block's timestamp (unix seconds)."""
    block = await rpc.call("eth_getBlockByNumber", ["latest", False])
    if not isinstance(block, dict) or "timestamp" not in block:
        raise ChainReadError(f"eth_getBlockByNumber answered {block!r}")
    return int(block["timestamp"], 16)
