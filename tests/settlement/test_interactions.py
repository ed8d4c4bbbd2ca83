"""AMM legs executed inside settle(): Uniswap V2 pairs and V3 pools through the router."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from eth_abi.abi import decode

from devnet.anvil import Devnet
from devnet.uniswap import (
    ERC20,
    V2_PAIR,
    V2_ROUTER,
    V3_QUOTER,
    UniswapV2,
    UniswapV3,
    add_v3_position,
    create_v2_pair,
    create_v3_pool,
    deploy_uniswap_v2,
    deploy_uniswap_v3,
)
from devnet.uniswap import mint as mint_token
from intents.types import Address, TokenAddress
from settlement.build import Execution, build_settlement
from settlement.deployment import Deployment
from settlement.encoding import Settlement
from settlement.fills import FillTracker
from settlement.interactions import (
    APPROVE,
    V3_EXACT_INPUT_SINGLE,
    InteractionError,
    Leg,
    PoolKind,
    route_interactions,
)
from settlement.jsonrpc import BatchingRpcClient
from settlement.submitter import Outcome, SettlementReverted, Submission, Submitter, SubmitterConfig
from tests.settlement.gpv2 import (
    RecordingSink,
    SignedOrder,
    balance,
    settlement_contract,
    sign_order,
)

SELL = 10 * 10**18


@pytest.fixture(scope="session")
def v2(devnet_node: Devnet, devnet: Deployment) -> UniswapV2:
    """Uniswap V2, deployed once (before any test's snapshot, so it stays)."""
    return deploy_uniswap_v2(devnet_node, devnet.weth)


@pytest.fixture(scope="session")
def v3(devnet_node: Devnet, devnet: Deployment) -> UniswapV3:
    """Uniswap V3 with its periphery, deployed once."""
    return deploy_uniswap_v3(devnet_node, devnet.weth)


RESERVE_A, RESERVE_C = 1000 * 10**18, 2000 * 10**18


def _v2_pair(
    node: Devnet, devnet: Deployment, v2: UniswapV2, a: TokenAddress, c: TokenAddress
) -> Address:
    for token, amount in ((a, RESERVE_A), (c, RESERVE_C)):
        mint_token(node, token, devnet.deployer.address, amount)
    return create_v2_pair(node, v2, a, c, RESERVE_A, RESERVE_C)


def _v2_out(node: Devnet, v2: UniswapV2, pair: Address, token_in: str, amount_in: int) -> int:
    """The router's ``getAmountOut`` at the pair's reserves."""
    r0, r1, _ = node.call(V2_PAIR, pair, "getReserves")
    (token0,) = node.call(V2_PAIR, pair, "token0")
    r_in, r_out = (r0, r1) if token_in == token0.lower() else (r1, r0)
    (out,) = node.call(V2_ROUTER, v2.router, "getAmountOut", amount_in, r_in, r_out)
    return int(out)


def _v3_pool(
    node: Devnet, devnet: Deployment, v3: UniswapV3, a: TokenAddress, c: TokenAddress
) -> Address:
    """A 0.3% pool at price 1 with 1000 of each token within +-600 ticks."""
    pool = create_v3_pool(node, v3, a, c, 3000, 2**96)
    for token in (a, c):
        mint_token(node, token, devnet.deployer.address, RESERVE_A)
    add_v3_position(node, v3, a, c, 3000, -600, 600, RESERVE_A, RESERVE_A)
    return pool


def _v3_out(node: Devnet, v3: UniswapV3, token_in: str, token_out: str, amount_in: int) -> int:
    params = (token_in, token_out, amount_in, 3000, 0)
    out, *_ = node.call(V3_QUOTER, v3.quoter, "quoteExactInputSingle", params)
    return int(out)


@pytest.fixture
async def rpc(devnet: Deployment) -> AsyncIterator[BatchingRpcClient]:
    async with BatchingRpcClient(devnet.rpc_url) as client:
        yield client


def _submitter(rpc: BatchingRpcClient, devnet: Deployment) -> Submitter:
    tracker = FillTracker(rpc, devnet.settlement, RecordingSink(), confirmations=1)
    config = SubmitterConfig(
        chain_id=devnet.chain_id, settlement=devnet.settlement, poll_interval=0.01
    )
    return Submitter(rpc, config, devnet.solver.private_key, tracker)


def _routed(
    order: SignedOrder, leg: Leg, devnet: Deployment, router: Address | None = None
) -> Settlement:
    """The order alone, its proceeds bought through ``leg``: prices make the trader get
    exactly the leg's output."""
    prices = {leg.token_in: leg.amount_out, leg.token_out: leg.amount_in}
    return build_settlement(
        [Execution(order.stored())], prices, [leg], settlement=devnet.settlement, v3_router=router
    )


async def _settle_measuring(
    node: Devnet,
    rpc: BatchingRpcClient,
    devnet: Deployment,
    settlement: Settlement,
    tokens: tuple[TokenAddress, ...],
    holders: tuple[str, ...],
) -> tuple[Submission, dict[tuple[TokenAddress, str], int]]:
    """Submit ``settlement``; the submission and how each holder's balance of each token moved."""
    before = {(t, who): balance(node, t, who) for t in tokens for who in holders}
    sub = await _submitter(rpc, devnet).submit(Submission(settlement.calldata()))
    return sub, {key: balance(node, *key) - value for key, value in before.items()}


async def test_uniswap_v2_leg_settles_exactly(
    v2: UniswapV2, chain_state: Devnet, devnet: Deployment, rpc: BatchingRpcClient
) -> None:
    node = chain_state
    a, c = devnet.tokens["TKA"], devnet.tokens["TKC"]
    pair = _v2_pair(node, devnet, v2, a, c)
    out = _v2_out(node, v2, pair, a, SELL)
    trader = devnet.accounts[2]
    order = sign_order(node, devnet, trader, a, c, SELL, out * 99 // 100)
    leg = Leg(PoolKind.UNISWAP_V2, pair, a, c, SELL, out)

    sub, delta = await _settle_measuring(
        node,
        rpc,
        devnet,
        _routed(order, leg, devnet),
        (a, c),
        (trader.address, devnet.settlement, pair),
    )

    assert sub.outcome is Outcome.SETTLED
    assert delta == {
        (a, trader.address): -SELL,
        (c, trader.address): out,
        (a, devnet.settlement): 0,
        (c, devnet.settlement): 0,
        (a, pair): SELL,
        (c, pair): -out,
    }
    assert settlement_contract(node, devnet).functions.filledAmount(order.uid).call() == SELL


async def test_v2_leg_asking_one_unit_too_much_reverts_in_simulation(
    v2: UniswapV2, chain_state: Devnet, devnet: Deployment, rpc: BatchingRpcClient
) -> None:
    node = chain_state
    a, c = devnet.tokens["TKA"], devnet.tokens["TKC"]
    pair = _v2_pair(node, devnet, v2, a, c)
    out = _v2_out(node, v2, pair, a, SELL) + 1
    order = sign_order(node, devnet, devnet.accounts[2], a, c, SELL, 1)
    leg = Leg(PoolKind.UNISWAP_V2, pair, a, c, SELL, out)
    with pytest.raises(SettlementReverted, match="UniswapV2: K"):
        await _submitter(rpc, devnet).submit(Submission(_routed(order, leg, devnet).calldata()))


async def test_uniswap_v3_leg_through_router_with_exact_approval(
    v3: UniswapV3, chain_state: Devnet, devnet: Deployment, rpc: BatchingRpcClient
) -> None:
    node = chain_state
    a, c = devnet.tokens["TKA"], devnet.tokens["TKC"]
    pool = _v3_pool(node, devnet, v3, a, c)
    out = _v3_out(node, v3, a, c, SELL)
    trader = devnet.accounts[2]
    order = sign_order(node, devnet, trader, a, c, SELL, out * 99 // 100)
    leg = Leg(PoolKind.UNISWAP_V3, pool, a, c, SELL, out, fee=3000)

    settlement = _routed(order, leg, devnet, v3.router)
    sub, delta = await _settle_measuring(
        node, rpc, devnet, settlement, (a, c), (trader.address, devnet.settlement, pool)
    )

    assert sub.outcome is Outcome.SETTLED
    assert delta == {
        (a, trader.address): -SELL,
        (c, trader.address): out,
        (a, devnet.settlement): 0,
        (c, devnet.settlement): 0,
        (a, pool): SELL,
        (c, pool): -out,
    }
    (allowance,) = node.call(ERC20, a, "allowance", devnet.settlement, v3.router)
    assert allowance == 0  # the exact approval was spent, nothing lingers


def test_v3_approval_is_exactly_the_leg_input() -> None:
    token_in, token_out = TokenAddress("0x" + "0a" * 20), TokenAddress("0x" + "0b" * 20)
    router, settlement = Address("0x" + "cc" * 20), Address("0x" + "dd" * 20)
    leg = Leg(PoolKind.UNISWAP_V3, Address("0x" + "ee" * 20), token_in, token_out, 123, 45, 500)
    approve, swap = route_interactions([leg], settlement, v3_router=router, deadline=77)
    assert approve.target == token_in and approve.call_data[:4] == APPROVE
    assert decode(["address", "uint256"], approve.call_data[4:]) == (router, 123)
    assert swap.target == router and swap.call_data[:4] == V3_EXACT_INPUT_SINGLE
    (params,) = decode(
        ["(address,address,uint24,address,uint256,uint256,uint256,uint160)"], swap.call_data[4:]
    )
    assert params == (token_in, token_out, 500, settlement, 77, 123, 45, 0)


@pytest.mark.parametrize(
    ("leg", "router"),
    [
        (
            Leg(
                PoolKind.UNISWAP_V3,
                Address("0x" + "ee" * 20),
                TokenAddress("0x" + "0a" * 20),
                TokenAddress("0x" + "0b" * 20),
                1,
                1,
                500,
            ),
            None,
        ),
        (
            Leg(
                PoolKind.UNISWAP_V3,
                Address("0x" + "ee" * 20),
                TokenAddress("0x" + "0a" * 20),
                TokenAddress("0x" + "0b" * 20),
                1,
                1,
                0,
            ),
            Address("0x" + "cc" * 20),
        ),
        (
            Leg(
                PoolKind.UNISWAP_V2,
                Address("0x" + "ee" * 20),
                TokenAddress("0x" + "0a" * 20),
                TokenAddress("0x" + "0b" * 20),
                0,
                1,
            ),
            None,
        ),
    ],
)
def test_unexecutable_legs_are_refused(leg: Leg, router: Address | None) -> None:
    with pytest.raises(InteractionError):
        route_interactions([leg], Address("0x" + "dd" * 20), v3_router=router)


async def test_acceptance_cow_pair_and_an_order_split_over_v2_and_v3(
    v2: UniswapV2, v3: UniswapV3, chain_state: Devnet, devnet: Deployment, rpc: BatchingRpcClient
) -> None:
    """Issue 4, acceptance 1: A->B and B->A match each other at one uniform price; a third
    order sells A for C through a V2 pair and a V3 pool; every balance is exact."""
    node = chain_state
    a, b, c = devnet.tokens["TKA"], devnet.tokens["TKB"], devnet.tokens["TKC"]
    pair = _v2_pair(node, devnet, v2, a, c)
    pool = _v3_pool(node, devnet, v3, a, c)
    half = SELL // 2
    out_v2 = _v2_out(node, v2, pair, a, half)
    out_v3 = _v3_out(node, v3, a, c, SELL - half)
    out = out_v2 + out_v3
    alice, bob, carol = devnet.accounts[2], devnet.accounts[3], devnet.accounts[4]
    a_for_b = sign_order(node, devnet, alice, a, b, 3 * 10**18, 5 * 10**18)
    b_for_a = sign_order(node, devnet, bob, b, a, 6 * 10**18, 2 * 10**18)
    a_for_c = sign_order(node, devnet, carol, a, c, SELL, out * 99 // 100)
    tokens = (a, b, c)
    # A:B = 2:1 for the CoW; A:C = out:SELL for the routed order (carol gets exactly out).
    prices = {a: 2 * out, b: out, c: 2 * SELL}
    legs = [
        Leg(PoolKind.UNISWAP_V2, pair, a, c, half, out_v2),
        Leg(PoolKind.UNISWAP_V3, pool, a, c, SELL - half, out_v3, fee=3000),
    ]
    settlement = build_settlement(
        [Execution(o.stored()) for o in (a_for_b, b_for_a, a_for_c)],
        prices,
        legs,
        settlement=devnet.settlement,
        v3_router=v3.router,
    )
    holders = (alice.address, bob.address, carol.address, devnet.settlement, pair, pool)

    sub, delta = await _settle_measuring(node, rpc, devnet, settlement, tokens, holders)

    assert sub.outcome is Outcome.SETTLED
    expected = dict.fromkeys(delta, 0) | {
        (a, alice.address): -3 * 10**18,
        (b, alice.address): 6 * 10**18,
        (b, bob.address): -6 * 10**18,
        (a, bob.address): 3 * 10**18,
        (a, carol.address): -SELL,
        (c, carol.address): out,
        (a, pair): half,
        (c, pair): -out_v2,
        (a, pool): SELL - half,
        (c, pool): -out_v3,
    }
    assert delta == expected
    contract = settlement_contract(node, devnet)
    filled = [contract.functions.filledAmount(o.uid).call() for o in (a_for_b, b_for_a, a_for_c)]
    assert filled == [3 * 10**18, 6 * 10**18, SELL]
    assert {f.uid: f.buy_amount for f in sub.fills} == {
        a_for_b.uid: 6 * 10**18,
        b_for_a.uid: 3 * 10**18,
        a_for_c.uid: out,
    }
