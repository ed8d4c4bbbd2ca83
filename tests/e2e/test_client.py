"""The typed Python client (``intents.client``) against ``tributary serve`` on its devnet:
quote, post, follow the status events until filled; a signed cancellation; a refusal as a
typed ``ApiError``; and a conditional order of an EIP-1271 wallet created through it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from intents.client import ApiError, OrderQuoteRequest, TributaryClient, Wallet, order_from_quote
from intents.conditional import parts_of
from intents.conditional_wire import GoodAfterTimeParams
from intents.eip712 import order_uid
from intents.order import OrderKind, OrderStatus
from intents.types import Address
from intents.wire import U256, to_hex
from solver.demo import limit_order, wallet_of
from tests.e2e import test_conditional_orders as chain
from tests.e2e.serve_node import ServedNode, served_node


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedNode]:
    with served_node(tmp_path_factory.mktemp("client")) as served:
        yield served


def unit_and_price(node: ServedNode) -> tuple[int, int]:
    """A sell of <= 0.01% of the pool's WETH, and its value in the token at the pool price."""
    weth, token = node.reserves()
    unit = min(weth // 10_000, 10**17)
    return unit, token * unit // weth


async def test_quote_post_follow_until_filled(node: ServedNode) -> None:
    wallet = wallet_of(node.deployment, node.deployment.accounts[0])
    unit, _ = unit_and_price(node)
    async with TributaryClient(node.url) as client:
        quote = await client.quote(
            OrderQuoteRequest(
                sell_token=node.deployment.weth, buy_token=node.token, from_=wallet.address,
                kind=OrderKind.SELL, sell_amount_before_fee=U256(unit),
            )
        )  # fmt: skip
        order = order_from_quote(quote, slippage_bps=50)
        assert order.sell_amount == unit and order.fee_amount == 0
        assert order.buy_amount == int(quote.quote.buy_amount) * 9950 // 10_000
        uid = await client.post_order(wallet.sign_order(order, quote_id=quote.id))
        assert uid == wallet.uid(order)
        seen = [event.status async for event in client.follow(uid=uid)]
        assert seen[0] is OrderStatus.OPEN and seen[-1] is OrderStatus.FILLED, seen
        state = await client.order(uid)
        trades = await client.trades(order_uid=uid)
        listed = await client.orders_by_owner(wallet.address)
    assert state.status == "fulfilled" and state.quote_id == quote.id
    assert int(state.executed_buy_amount) >= order.buy_amount
    assert [t.order_uid for t in trades] == [uid] and trades[0].tx_hash
    assert uid in [o.uid for o in listed]


async def test_cancel_and_refusals_are_typed(node: ServedNode) -> None:
    wallet = wallet_of(node.deployment, node.deployment.accounts[1])
    other = wallet_of(node.deployment, node.deployment.accounts[2])
    unit, at = unit_and_price(node)
    order = limit_order(wallet.address, node.deployment.weth, node.token, unit, at * 10)
    async with TributaryClient(node.url) as client:
        creation = wallet.sign_order(order)
        uid = await client.post_order(creation)
        with pytest.raises(ApiError) as duplicate:
            await client.post_order(creation)
        assert (duplicate.value.status, duplicate.value.error_type) == (400, "DuplicatedOrder")
        assert uid in duplicate.value.description
        with pytest.raises(ApiError) as foreign:
            await client.cancel(other.cancellation([uid]))
        assert (foreign.value.status, foreign.value.error_type) == (401, "WrongOwner")
        await client.cancel(wallet.cancellation([uid]))
        state = await client.wait(uid, within=10)
        assert state.status == "cancelled" and state.invalidated
        with pytest.raises(ApiError) as again:
            await client.cancel(wallet.cancellation([uid]))
        assert (again.value.status, again.value.error_type) == (400, "AlreadyCancelled")
        with pytest.raises(ApiError) as missing:
            await client.order("0x" + "00" * 56)
        assert (missing.value.status, missing.value.error_type) == (404, "OrderNotFound")


async def test_a_wallet_owned_conditional_order_through_the_client(node: ServedNode) -> None:
    """A good-after-time order of a DigestWallet: parent and part authorized by the
    wallet's owner key through EIP-1271 (``Wallet.conditional_for``), released when due and
    filled; then listed, and a cancellation of the finished order is signed by the wallet."""
    account = node.deployment.accounts[4]
    owner: Wallet = wallet_of(node.deployment, account)
    weth = node.deployment.weth
    contract = await chain.deploy(
        node, account.address, "DigestWallet", chain.address_word(account.address)
    )
    unit, at = unit_and_price(node)
    transfer = chain.selector("transfer(address,uint256)") + chain.address_word(contract)
    await chain.transact(node, account.address, weth, transfer + chain.word(unit))
    approve = (
        chain.selector("approve(address,uint256)")
        + chain.address_word(node.deployment.vault_relayer)
        + chain.word(chain.MAX_U256)
    )
    execute = chain.selector("execute(address,bytes)") + chain.address_word(weth) + chain.word(64)
    execute += chain.word(len(approve)) + approve + bytes(-len(approve) % 32)
    await chain.transact(node, account.address, contract, execute)
    now = await chain.now_on_chain(node)
    params = GoodAfterTimeParams(
        sell_token=weth, buy_token=node.token, receiver=contract, sell_amount=U256(unit),
        buy_amount=U256(at * 9 // 10), valid_to=now + 3600, app_data=chain.APP_DATA, start_time=now,
    )  # fmt: skip
    creation = owner.conditional_for(contract, params, bytes.fromhex("c1" * 32))
    [spec] = parts_of(params.to_params())
    digest = owner.order_digest(spec.order)
    uid = to_hex(order_uid(digest, Address(contract), spec.order.valid_to))
    async with TributaryClient(node.url) as client:
        cid = await client.create_conditional(creation)
        assert cid.endswith(contract[2:])
        filled = await client.wait(uid, within=30)
        state = await client.conditional(cid)
        listed = await client.conditionals_by_owner(contract)
        with pytest.raises(ApiError) as duplicate:
            await client.create_conditional(creation)
    assert filled.status == "fulfilled" and filled.signing_scheme == "eip1271"
    assert state.signing_scheme == "eip1271" and state.status == "finished"
    assert [p.order_uid for p in state.parts] == [uid]
    assert [c.id for c in listed] == [cid]
    assert duplicate.value.error_type == "DuplicatedOrder"
