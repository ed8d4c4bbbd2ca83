"""Issue 15 item 1, end to end on a devnet: orders' appData hooks run through our hooks
trampoline in the settlement. A trader with no allowance sells with an EIP-2612 permit
pre-hook; a post-hook sees the trade's proceeds; a hook that reverts at settlement is
reported and the batch settles; a partially fillable order's pre-hook runs on its first
fill only; a hook that cannot run is refused at creation."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import msgspec
import pytest
from eth_utils.crypto import keccak

from devnet.anvil import Tx
from devnet.artifacts import Artifact
from devnet.permit import permit_call as signed_permit
from devnet.solidity import own_artifact
from devnet.uniswap import ERC20, create_v2_pair, deploy_uniswap_v2, mint, wrap_eth
from intents.order import Order
from intents.types import Address, OrderUid, TokenAddress
from intents.wire import OrderCreation, parse_uid
from settlement.chain_pools import ChainPool
from settlement.deployment import Account
from settlement.interactions import PoolKind
from solver.demo import limit_order, wallet_of
from solver.network import NetworkSettings
from tests.e2e.helpers import E18, Market, Node, devnet_market, refusal, running_node

PERMIT_TOKEN: Artifact = own_artifact("PermitToken")
PROBE: Artifact = own_artifact("HookProbe")


@dataclass(frozen=True)
class HookMarket:
    market: Market
    tkp: TokenAddress
    """An EIP-2612 token with a WETH pool; the traders hold none of it."""
    probe: Address
    pools: tuple[ChainPool, ...]


@pytest.fixture(scope="module")
def hook_market(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HookMarket]:
    with devnet_market(tmp_path_factory) as market:
        devnet, d = market.devnet, market.deployment
        tkp, probe = devnet.deploy_many([(PERMIT_TOKEN, ("Permit Token", "TKP")), (PROBE, ())])
        me = d.deployer.address
        mint(devnet, TokenAddress(tkp), me, 10**6 * E18)
        wrap_eth(devnet, d.weth, me, 1000 * E18)
        v2 = deploy_uniswap_v2(devnet, d.weth)
        pair = create_v2_pair(devnet, v2, TokenAddress(tkp), d.weth, 10**6 * E18, 1000 * E18)
        t0, t1 = sorted((tkp, d.weth), key=lambda a: int(a, 16))
        pool = ChainPool(PoolKind.UNISWAP_V2, pair, t0, t1, 3000, v2.router)
        yield HookMarket(market, TokenAddress(tkp), probe, (*market.pools, pool))


@pytest.fixture
async def node(hook_market: HookMarket, tmp_path: Path) -> AsyncIterator[Node]:
    m = hook_market.market
    settings = NetworkSettings(deployment=m.path, engines=("baseline", "optimal", "batch"))
    async with running_node(
        m.devnet, m.path, hook_market.pools, tmp_path / "book.sqlite3", settings
    ) as node:
        yield node


def hook(target: str, call_data: bytes, gas_limit: int) -> dict[str, str]:
    return {"target": target, "callData": "0x" + call_data.hex(), "gasLimit": str(gas_limit)}


def app_data(pre: Sequence[dict[str, str]] = (), post: Sequence[dict[str, str]] = ()) -> str:
    hooks = {"pre": list(pre), "post": list(post)}
    return json.dumps({"version": "1.3.0", "metadata": {"hooks": hooks}})


def permit_call(hm: HookMarket, owner: Account, value: int) -> bytes:
    """``permit(owner, vaultRelayer, value, ...)`` signed by ``owner``."""
    d = hm.market.deployment
    return signed_permit(hm.market.devnet, hm.tkp, owner, d.vault_relayer, value)


def body(hm: HookMarket, owner: Account, order: Order, document: str) -> OrderCreation:
    """``order`` with the app data ``document``, signed by ``owner``, as posted."""
    order = msgspec.structs.replace(order, app_data=keccak(text=document))
    return wallet_of(hm.market.deployment, owner).sign_order(order, app_data=document)


async def settle(node: Node, uids: list[str], want: str, rounds: int = 4) -> None:
    for _ in range(rounds):
        await node.auctioneer.run_round(node.session)
        states = [await node.book.get(OrderUid(parse_uid(u))) for u in uids]
        if all(s is not None and s.status == want for s in states):
            return
    raise AssertionError(f"not all {want}: {[s.status if s else None for s in states]}")


def probe_state(hm: HookMarket) -> tuple[int, str, int]:
    devnet = hm.market.devnet
    ((calls,), (caller,), (balance,)) = devnet.call_many(
        [(PROBE, hm.probe, name, ()) for name in ("calls", "lastCaller", "recordedBalance")]
    )
    return calls, caller.lower(), balance


async def test_permit_pre_hook_fills_an_order_without_allowance_and_a_post_hook_sees_it(
    hook_market: HookMarket, node: Node
) -> None:
    hm, devnet, d = hook_market, hook_market.market.devnet, hook_market.market.deployment
    trader = d.accounts[0]
    mint(devnet, hm.tkp, trader.address, 1000 * E18)
    sell = 100 * E18
    order = limit_order(trader.address, hm.tkp, d.weth, sell, sell // 2000)
    # without the permit the order is refused: the trader never approved the vault relayer
    refused = await refusal(node.client, body(hm, trader, order, app_data()))
    assert (refused.status, refused.error_type) == (400, "InsufficientAllowance"), refused
    permit = hook(hm.tkp, permit_call(hm, trader, sell), 80_000)
    record = hook(hm.probe, PROBE.encode_call("recordBalance", d.weth, trader.address), 100_000)
    uid = await node.client.post_order(body(hm, trader, order, app_data([permit], [record])))
    (weth_before,) = devnet.call(ERC20, d.weth, "balanceOf", trader.address)
    await settle(node, [uid], "filled")
    (weth_after,) = devnet.call(ERC20, d.weth, "balanceOf", trader.address)
    (allowance,) = devnet.call(ERC20, hm.tkp, "allowance", trader.address, d.vault_relayer)
    assert weth_after > weth_before
    assert allowance == 0  # the permit granted exactly the sell amount, the trade spent it
    calls, caller, recorded = probe_state(hm)
    # the post-hook ran once, from the trampoline, after the buyer was paid
    assert (calls, caller, recorded) == (1, d.hooks_trampoline, weth_after)
    assert all(not r.failed_hooks for r in node.auctioneer.reports)


async def test_hook_that_cannot_run_is_refused_at_creation(
    hook_market: HookMarket, node: Node
) -> None:
    hm, d = hook_market, hook_market.market.deployment
    trader = d.accounts[1]
    order = limit_order(trader.address, hook_market.market.tka, d.weth, 10 * E18, E18 // 1000)
    fail = hook(hm.probe, PROBE.encode_call("fail"), 50_000)
    refused = await refusal(node.client, body(hm, trader, order, app_data(post=[fail])))
    assert (refused.status, refused.error_type) == (400, "HookSimulationFailed"), refused
    assert "post-hook 0" in refused.description
    bad = {"target": hm.probe, "callData": "0x12", "gasLimit": "lots"}
    refused = await refusal(node.client, body(hm, trader, order, app_data(post=[bad])))
    assert (refused.status, refused.error_type) == (400, "InvalidAppData"), refused


async def test_hook_reverting_at_settlement_is_reported_and_the_batch_settles(
    hook_market: HookMarket, node: Node
) -> None:
    hm, devnet, d = hook_market, hook_market.market.devnet, hook_market.market.deployment
    spender, other = d.accounts[2], d.accounts[3]
    mint(devnet, hm.tkp, spender.address, 1000 * E18)
    sell = 50 * E18
    call = permit_call(hm, spender, sell)
    order = limit_order(spender.address, hm.tkp, d.weth, sell, sell // 2000)
    uid = await node.client.post_order(
        body(hm, spender, order, app_data([hook(hm.tkp, call, 80_000)]))
    )
    # the trader sends the permit himself: the hook's permit (same nonce) now reverts, the
    # allowance is there all the same
    devnet.send([Tx(spender.address, call, hm.tkp)])
    poke = hook(hm.probe, PROBE.encode_call("poke"), 50_000)
    other_order = limit_order(other.address, hm.market.tka, d.weth, 10 * E18, E18 // 200)
    other_uid = await node.client.post_order(body(hm, other, other_order, app_data(post=[poke])))
    calls_before, *_ = probe_state(hm)
    await settle(node, [uid, other_uid], "filled")
    failed = [f for r in node.auctioneer.reports for f in r.failed_hooks]
    assert [(f.uid, f.stage, f.index) for f in failed] == [(parse_uid(uid), "pre", 0)]
    assert probe_state(hm)[0] == calls_before + 1  # the other order's post-hook ran
    shown = await node.client.order(uid)
    assert shown.status == "fulfilled"
    (trade,) = await node.book.trades(uid=OrderUid(parse_uid(uid)))
    assert [msgspec.to_builtins(h) for h in shown.failed_hooks] == [
        {"stage": "pre", "index": 0, "target": hm.tkp, "txHash": "0x" + trade.tx_hash.hex()}
    ]
    (other_trade,) = await node.book.trades(uid=OrderUid(parse_uid(other_uid)))
    assert other_trade.tx_hash == trade.tx_hash  # one batch: the other order settled in it
    assert (await node.client.order(other_uid)).failed_hooks == ()


async def test_partially_fillable_order_runs_its_pre_hook_on_the_first_fill_only(
    hook_market: HookMarket, node: Node
) -> None:
    hm, devnet, d = hook_market, hook_market.market.devnet, hook_market.market.deployment
    trader = d.accounts[4]
    devnet.send(
        [Tx(trader.address, ERC20.encode_call("approve", d.vault_relayer, 2**256 - 1), hm.tkp)]
    )
    mint(devnet, hm.tkp, trader.address, 60 * E18)  # less than the order sells
    order = limit_order(trader.address, hm.tkp, d.weth, 120 * E18, 120 * E18 // 2000, partial=True)
    poke = hook(hm.probe, PROBE.encode_call("poke"), 50_000)
    uid = await node.client.post_order(body(hm, trader, order, app_data([poke])))
    calls_before, *_ = probe_state(hm)
    await settle(node, [uid], "partiallyFilled")
    assert probe_state(hm)[0] == calls_before + 1
    mint(devnet, hm.tkp, trader.address, 60 * E18)
    await settle(node, [uid], "filled")
    assert probe_state(hm)[0] == calls_before + 1  # not again on the second fill
    fills = [s for r in node.auctioneer.reports for _, s in r.submissions if s.fills]
    assert len(fills) == 2
