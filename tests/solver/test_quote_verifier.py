"""The quote verifier's pieces that must match the real contract: the ``preSignature``
storage slot its state override writes, and the probe order it auctions."""

from __future__ import annotations

from eth_abi.abi import decode

from devnet.anvil import Devnet, Tx
from intents.http.quote import QuoteQuery, QuoteResult
from intents.order import OrderKind
from intents.types import Address, OrderUid, TokenAddress
from settlement.deployment import Deployment
from settlement.jsonrpc import BatchingRpcClient
from solver.quote_verifier import PRE_SIGNED, presign_override, probe_order
from tests.settlement.test_chain_reader import SETTLEMENT, uid_for

A, B = TokenAddress("0x" + "aa" * 20), TokenAddress("0x" + "bb" * 20)
OWNER = Address("0x" + "0c" * 20)


async def _pre_signature(
    devnet: Deployment, uid: OrderUid, override: dict[str, object] | None = None
) -> bytes:
    call = {
        "to": devnet.settlement,
        "data": "0x" + SETTLEMENT.encode_call("preSignature", uid).hex(),
    }
    params: list[object] = [call, "latest"] + ([override] if override is not None else [])
    async with BatchingRpcClient(devnet.rpc_url) as rpc:
        result = await rpc.call("eth_call", params)
    (value,) = decode(("uint256",), bytes.fromhex(result[2:]))
    return int(value).to_bytes(32, "big")


async def test_the_override_writes_the_slot_set_pre_signature_writes(
    chain_state: Devnet, devnet: Deployment
) -> None:
    owner = devnet.accounts[0].address
    signed, overridden = uid_for(owner, 7), uid_for(owner, 8)
    chain_state.send(
        [Tx(owner, SETTLEMENT.encode_call("setPreSignature", signed, True), devnet.settlement)]
    )
    assert await _pre_signature(devnet, signed) == PRE_SIGNED
    [(slot, value)] = presign_override(devnet.settlement, signed)[devnet.settlement][
        "stateDiff"
    ].items()
    stored = chain_state.rpc("eth_getStorageAt", devnet.settlement, slot, "latest")
    assert (stored, value) == ("0x" + PRE_SIGNED.hex(), "0x" + PRE_SIGNED.hex())
    assert await _pre_signature(devnet, overridden) == bytes(32)
    override = presign_override(devnet.settlement, overridden)
    assert await _pre_signature(devnet, overridden, override) == PRE_SIGNED


def test_the_probe_order_is_the_quoted_one_with_a_looser_limit() -> None:
    sell = probe_order(
        QuoteQuery(A, B, "sellBeforeFee", 1000, owner=OWNER), QuoteResult(990, 5000, 10), 99
    )
    assert (sell.kind, sell.sell_amount, sell.buy_amount, sell.fee_amount) == (
        OrderKind.SELL,
        1000,  # what cow-sdk signs: the fee folded in
        4950,  # 1% less than quoted
        0,
    )
    assert (sell.receiver, sell.valid_to, sell.partially_fillable) == (OWNER, 99, False)
    buy = probe_order(
        QuoteQuery(A, B, "buyAfterFee", 5000, owner=OWNER), QuoteResult(990, 5000, 10), 99
    )
    assert (buy.kind, buy.sell_amount, buy.buy_amount) == (OrderKind.BUY, 1010, 5000)
