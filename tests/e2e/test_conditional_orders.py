"""Conditional orders end to end against ``tributary serve`` on its devnet (issue 16).

The node's release clock is the later of the wall clock and the chain's latest block
timestamp, so the tests control time by moving the devnet's clock (``evm_increaseTime``
and a mined block): a TWAP of 4 parts fills once per interval and no part is in the book
before its time; a cancelled TWAP releases nothing more; a stop-loss fires when the devnet
oracle's price crosses its strike, not before; a TWAP of an EIP-1271 wallet is released
part by part only once the wallet authorizes each part."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from devnet.solidity import own_artifact
from intents.client import ApiError, TributaryClient, Wallet
from intents.conditional import conditional_digest, parts_of
from intents.conditional_wire import StopLossParams, TwapParams, WireParams
from intents.eip712 import order_digest, order_uid
from intents.keccak import keccak256
from intents.types import Address
from intents.wire import U256, to_builtins, to_hex
from settlement.jsonrpc import BatchingRpcClient
from settlement.price_oracle import chain_time
from tests.e2e.serve_node import ServedNode, send_tx, served_node
from tests.intents.conditional_helpers import eoa_creation, wallet_creation

INTERVAL = 600  # seconds between TWAP parts
APP_DATA = "0x" + "00" * 32
MAX_U256 = 2**256 - 1


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedNode]:
    with served_node(tmp_path_factory.mktemp("conditional")) as served:
        yield served


def selector(signature: str) -> bytes:
    return keccak256(signature.encode())[:4]


def word(value: int) -> bytes:
    return (value % 2**256).to_bytes(32, "big")


def address_word(address: str) -> bytes:
    return bytes(12) + bytes.fromhex(address[2:])


async def rpc_call(node: ServedNode, method: str, params: list[Any]) -> Any:
    async with BatchingRpcClient(node.deployment.rpc_url) as rpc:
        return await rpc.call(method, params)


GAS = 3_000_000
"""A fixed gas limit: an estimate made on the latest block can fall short (``PriceOracle``
stores the new block's timestamp)."""


async def transact(node: ServedNode, sender: str, to: str | None, data: bytes) -> dict[str, Any]:
    async with BatchingRpcClient(node.deployment.rpc_url) as rpc:
        return await send_tx(rpc, sender, to, data, gas=GAS)


async def deploy(node: ServedNode, sender: str, name: str, args: bytes) -> Address:
    receipt = await transact(node, sender, None, own_artifact(name).bytecode + args)
    return Address(str(receipt["contractAddress"]).lower())


async def now_on_chain(node: ServedNode) -> int:
    async with BatchingRpcClient(node.deployment.rpc_url) as rpc:
        return await chain_time(rpc)


async def advance(node: ServedNode, seconds: int) -> None:
    """Move the devnet's clock ``seconds`` ahead and mine a block at the new time."""
    await rpc_call(node, "evm_increaseTime", [seconds])
    await rpc_call(node, "evm_mine", [])


def twap(node: ServedNode, owner: str, t0: int, n: int = 4) -> TwapParams:
    """A TWAP selling WETH for the pool's token, each part <= 0.01% of the pool, limit
    0.9 of its pool price."""
    weth, token = node.reserves()
    unit = min(weth // 10_000, 10**17)
    return TwapParams(
        sell_token=node.deployment.weth, buy_token=node.token, receiver=owner,
        part_sell_amount=U256(unit), min_part_limit=U256(token * unit // weth * 9 // 10),
        t0=t0, n=n, t=INTERVAL, app_data=APP_DATA,
    )  # fmt: skip


def part_uids(node: ServedNode, params: WireParams, owner: str) -> list[str]:
    separator = node.deployment.domain_separator
    return [
        to_hex(order_uid(order_digest(separator, p.order), Address(owner), p.order.valid_to))
        for p in parts_of(params.to_params())
    ]


async def conditional(client: TributaryClient, cid: str) -> Any:
    """The conditional order as JSON (what ``GET`` answers)."""
    return to_builtins(await client.conditional(cid))


async def order_status(client: TributaryClient, uid: str) -> str | None:
    """The order's status in the book, None if it is not there."""
    try:
        return (await client.order(uid)).status
    except ApiError as error:
        if error.status == 404:
            return None
        raise


async def wait_status(client: TributaryClient, uid: str, status: str, within: float = 30) -> None:
    """Until the order (once in the book) has ``status``, following its events."""
    await client.wait(uid, until={status}, within=within)


async def wait_part(client: TributaryClient, cid: str, index: int, reason: str) -> dict[str, Any]:
    """The part once the node noted ``reason`` for withholding it."""
    async with asyncio.timeout(15):
        while True:
            part: dict[str, Any] = (await conditional(client, cid))["parts"][index]
            if part["reason"] and reason in part["reason"]:
                return part
            await asyncio.sleep(0.25)


async def test_a_twap_fills_once_per_interval_and_no_part_is_in_the_book_early(
    node: ServedNode,
) -> None:
    owner, key = node.deployment.accounts[0]
    separator = node.deployment.domain_separator
    params = twap(node, owner, await now_on_chain(node))
    uids = part_uids(node, params, owner)
    async with TributaryClient(node.url) as client:
        bad = eoa_creation(
            separator, TwapParams(**{**_fields(params), "n": 1}), bytes.fromhex(key[2:])
        )
        with pytest.raises(ApiError) as refusal:
            await client.create_conditional(bad)
        assert (refusal.value.status, refusal.value.error_type) == (400, "InvalidConditionalOrder")
        assert "n (the number of parts)" in refusal.value.description

        cid = await client.create_conditional(
            eoa_creation(separator, params, bytes.fromhex(key[2:]))
        )
        for i, uid in enumerate(uids):
            await wait_status(client, uid, "fulfilled")
            for later in uids[i + 1 :]:  # due one interval later: not in the book yet
                assert await order_status(client, later) is None
            if i + 1 < len(uids):
                await asyncio.sleep(1.5)  # a release tick or more: still withheld
                assert await order_status(client, uids[i + 1]) is None
                await advance(node, INTERVAL)
        state = await conditional(client, cid)
    assert state["status"] == "finished"
    assert [p["orderStatus"] for p in state["parts"]] == ["fulfilled"] * 4
    assert [p["orderUid"] for p in state["parts"]] == uids
    for part in state["parts"]:
        assert int(part["executedBuyAmount"]) >= int(params.min_part_limit)
    released = [h for h in state["history"] if h["event"] == "released"]
    assert [h["part"] for h in released] == [0, 1, 2, 3]


def _fields(params: TwapParams) -> dict[str, Any]:
    return {f: getattr(params, f) for f in params.__struct_fields__}


async def test_cancelling_a_twap_stops_its_remaining_parts(node: ServedNode) -> None:
    owner, key = node.deployment.accounts[1]
    other_key = node.deployment.accounts[2].private_key
    separator = node.deployment.domain_separator
    params = twap(node, owner, await now_on_chain(node))
    uids = part_uids(node, params, owner)
    async with TributaryClient(node.url) as client:
        cid = await client.create_conditional(
            eoa_creation(separator, params, bytes.fromhex(key[2:]))
        )
        await wait_status(client, uids[0], "fulfilled")
        foreign = Wallet.from_separator(other_key, separator).conditional_cancellation(cid)
        with pytest.raises(ApiError) as refusal:
            await client.cancel_conditional(cid, foreign)
        assert (refusal.value.status, refusal.value.error_type) == (401, "WrongOwner")
        signed = Wallet.from_separator(key, separator).conditional_cancellation(cid)
        assert await client.cancel_conditional(cid, signed) == "Cancelled"
        await advance(node, 3 * INTERVAL)  # every remaining part would be due by now
        await asyncio.sleep(2.5)
        for uid in uids[1:]:
            assert await order_status(client, uid) is None
        state = await conditional(client, cid)
        assert [c.id for c in await client.conditionals_by_owner(owner)] == [cid]
    assert state["status"] == "cancelled"
    assert [p["status"] for p in state["parts"]] == ["released"] + ["cancelled"] * 3
    assert state["history"][-1]["event"] == "cancelled"


async def test_a_stop_loss_fires_when_the_oracle_crosses_its_strike(node: ServedNode) -> None:
    owner, key = node.deployment.accounts[3]
    separator = node.deployment.domain_separator
    weth, token = node.reserves()
    sell_oracle = await deploy(node, owner, "PriceOracle", word(8) + word(2000 * 10**8))
    buy_oracle = await deploy(node, owner, "PriceOracle", word(8) + word(10**8))
    unit = min(weth // 10_000, 10**17)
    params = StopLossParams(
        sell_token=node.deployment.weth, buy_token=node.token, sell_amount=U256(unit),
        buy_amount=U256(token * unit // weth * 9 // 10), app_data=APP_DATA, receiver=owner,
        valid_to=await now_on_chain(node) + 3600, sell_token_price_oracle=sell_oracle,
        buy_token_price_oracle=buy_oracle, strike=U256(1500 * 10**18),
        max_time_since_last_oracle_update=86400,
    )  # fmt: skip
    [uid] = part_uids(node, params, owner)
    async with TributaryClient(node.url) as client:
        cid = await client.create_conditional(
            eoa_creation(separator, params, bytes.fromhex(key[2:]))
        )
        part = await wait_part(client, cid, 0, "StrikeNotReached")  # 2000 > 1500
        assert part["status"] == "pending" and await order_status(client, uid) is None
        await transact(node, owner, sell_oracle, selector("setAnswer(int256)") + word(1600 * 10**8))
        await asyncio.sleep(2)  # 1600 > 1500: still withheld
        assert await order_status(client, uid) is None
        await transact(node, owner, sell_oracle, selector("setAnswer(int256)") + word(1400 * 10**8))
        await wait_status(client, uid, "fulfilled")
        state = await conditional(client, cid)
    assert state["parts"][0]["status"] == "released" and state["status"] == "finished"


async def test_a_wallet_twap_is_authorized_part_by_part_and_filled(node: ServedNode) -> None:
    owner = node.deployment.accounts[4].address
    separator = node.deployment.domain_separator
    weth = node.deployment.weth
    wallet = await deploy(node, owner, "DigestWallet", address_word(owner))
    params = twap(node, wallet, await now_on_chain(node), n=2)
    total = int(params.part_sell_amount) * 2
    await transact(
        node,
        owner,
        weth,
        selector("transfer(address,uint256)") + address_word(wallet) + word(total),
    )
    approve = (
        selector("approve(address,uint256)")
        + address_word(node.deployment.vault_relayer)
        + word(MAX_U256)
    )
    execute = (
        selector("execute(address,bytes)")
        + address_word(weth)
        + word(64)
        + word(len(approve))
        + approve
        + bytes(-len(approve) % 32)
    )
    await transact(node, owner, wallet, execute)
    set_approval = selector("setApproval(bytes32,bool)")
    digest = conditional_digest(separator, params.to_params(), bytes.fromhex("5a" * 32))
    await transact(node, owner, wallet, set_approval + digest + word(1))  # the parent
    uids = part_uids(node, params, wallet)
    parts = parts_of(params.to_params())
    async with TributaryClient(node.url) as client:
        cid = await client.create_conditional(wallet_creation(params, wallet))
        for i, part in enumerate(parts):
            if i:
                await advance(node, INTERVAL)
            # due, but the wallet has not authorized it: withheld
            await wait_part(client, cid, i, "InvalidEip1271Signature")
            assert await order_status(client, uids[i]) is None
            part_digest = order_digest(separator, part.order)
            await transact(node, owner, wallet, set_approval + part_digest + word(1))
            await wait_status(client, uids[i], "fulfilled")
        state = await conditional(client, cid)
    assert [p["orderStatus"] for p in state["parts"]] == ["fulfilled"] * 2
    assert state["signingScheme"] == "eip1271"
