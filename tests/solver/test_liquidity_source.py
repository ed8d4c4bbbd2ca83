"""The chain liquidity source reads V2 and V3 pools as the contracts hold them, and the
routing snapshot built from them quotes what the chain's own quoter answers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from devnet.anvil import Devnet
from devnet.seed import default_seed_snapshot, load_snapshot, seed
from devnet.uniswap import (
    ERC20,
    V2_PAIR,
    V3_POOL,
    V3_QUOTER,
    UniswapV2,
    UniswapV3,
    add_v3_position,
    create_v2_pair,
    create_v3_pool,
    mint,
    wrap_eth,
)
from intents.types import to_address
from routing.pool import TokenAddress as PoolToken
from settlement.chain_pools import ChainPool
from settlement.deployment import Deployment
from settlement.interactions import PoolKind
from settlement.jsonrpc import BatchingRpcClient
from solver import dto
from solver.dto_convert import auction_from_dto
from solver.liquidity_source import ChainLiquidity, FileLiquidity, native_prices

E18 = 10**18
TICKS = (-600, 600, -1200, 1200, 60)  # 60 is never initialized


def _sorted(a: str, b: str) -> tuple[str, str]:
    x, y = sorted((a, b), key=lambda t: int(t, 16))
    return x, y


async def test_chain_pools_match_the_contracts_and_quote_as_the_quoter(
    chain_state: Devnet, devnet: Deployment, uniswap_v2: UniswapV2, uniswap_v3: UniswapV3
) -> None:
    node, me = chain_state, devnet.deployer.address
    tka, tkb = devnet.tokens["TKA"], devnet.tokens["TKB"]
    for token in (tka, tkb):
        mint(node, token, me, 10**9 * E18)
    wrap_eth(node, devnet.weth, me, 100 * E18)
    pair = create_v2_pair(node, uniswap_v2, tka, devnet.weth, 2000 * E18, 1 * E18 + 12345)
    pool = create_v3_pool(node, uniswap_v3, tka, tkb, 3000, 2**96)
    add_v3_position(node, uniswap_v3, tka, tkb, 3000, -600, 600, 10**6 * E18, 10**6 * E18)
    add_v3_position(node, uniswap_v3, tka, tkb, 3000, -1200, 1200, 10**5 * E18, 10**5 * E18)
    v2_tokens, v3_tokens = _sorted(tka, devnet.weth), _sorted(tka, tkb)
    pools = (
        ChainPool(PoolKind.UNISWAP_V2, pair, *v2_tokens, 3000, uniswap_v2.router),  # type: ignore[arg-type]
        ChainPool(PoolKind.UNISWAP_V3, pool, *v3_tokens, 3000, uniswap_v3.router, TICKS),  # type: ignore[arg-type]
    )
    async with BatchingRpcClient(devnet.rpc_url) as rpc:
        v2, v3 = await ChainLiquidity(rpc, pools).liquidity()

    assert isinstance(v2, dto.ConstantProductPool) and isinstance(v3, dto.ConcentratedLiquidityPool)
    r0, r1, _ = node.call(V2_PAIR, pair, "getReserves")
    assert [int(v2.tokens[t].balance) for t in v2_tokens] == [r0, r1]
    sqrt_price, tick, *_ = node.call(V3_POOL, pool, "slot0")
    (liquidity,) = node.call(V3_POOL, pool, "liquidity")
    assert (int(v3.sqrt_price), v3.tick, int(v3.liquidity)) == (sqrt_price, tick, liquidity)
    expected_net = {}
    for t in TICKS:
        net = node.call(V3_POOL, pool, "ticks", t)[1]
        if net:
            expected_net[str(t)] = str(net)
    assert v3.liquidity_net == expected_net and len(expected_net) == 4

    # the snapshot routes exactly as the chain's quoter
    auction = auction_from_dto(
        dto.Auction(
            id="1",
            tokens={},
            orders=[],
            liquidity=[v2, v3],
            effective_gas_price=dto.U256(1),
            deadline=datetime.now(UTC),
            surplus_capturing_jit_order_owners=[],
        )
    )
    (model,) = [p for p in auction.liquidity.pools if str(p.id) == pool]
    amount_in = 700_000 * E18  # crosses the inner range's upper tick
    quoted = node.call(
        V3_QUOTER, uniswap_v3.quoter, "quoteExactInputSingle", (tka, tkb, amount_in, 3000, 0)
    )[0]
    assert model.amount_out(PoolToken(tka), PoolToken(tkb), amount_in) == quoted


async def test_seeded_pools_are_read_with_their_devnet_ticks_and_quote_as_the_quoter(
    chain_state: Devnet, devnet: Deployment
) -> None:
    """WBTC/DAI: the devnet addresses sort both V3 pools' tokens the other way round than
    mainnet, so the seeded ticks are the mainnet ones mirrored."""
    wbtc = to_address("0x2260fac5e5542a773aa44fbcfedf7c193bc2c599")
    dai = to_address("0x6b175474e89094c44da98b954eedeac495271d0f")
    seeded = seed(chain_state, devnet, load_snapshot(default_seed_snapshot()), [wbtc, dai])
    pools = seeded.pool_list().pools
    v3 = [p for p in pools if p.kind is PoolKind.UNISWAP_V3]
    assert [p.ticks for p in v3] == [p.ticks for p in seeded.pools if p.kind == "uniswap_v3"]
    assert len(v3) == 2 and all(p.ticks for p in v3)
    async with BatchingRpcClient(devnet.rpc_url) as rpc:
        liquidity = await ChainLiquidity(rpc, tuple(pools)).liquidity()
    read = [p for p in liquidity if isinstance(p, dto.ConcentratedLiquidityPool)]
    for chain_pool, dto_pool in zip(v3, read, strict=True):
        # every candidate tick is initialized on chain: none was lost to a wrong tick set
        assert sorted(int(t) for t in dto_pool.liquidity_net) == list(chain_pool.ticks)
    auction = auction_from_dto(
        dto.Auction(
            id="1",
            tokens={},
            orders=[],
            liquidity=liquidity,
            effective_gas_price=dto.U256(1),
            deadline=datetime.now(UTC),
            surplus_capturing_jit_order_owners=[],
        )
    )
    crossings = 0
    for chain_pool in v3:
        (model,) = [p for p in auction.liquidity.pools if str(p.id) == chain_pool.address]
        for token_in, token_out in (
            (chain_pool.token0, chain_pool.token1),
            (chain_pool.token1, chain_pool.token0),
        ):
            # enough to buy a quarter of what the pool holds of token_out
            wanted = node_balance(chain_state, token_out, chain_pool.address) // 4
            amount_in = model.amount_in(PoolToken(token_in), PoolToken(token_out), wanted)
            quoted, _, crossed, _ = chain_state.call(
                V3_QUOTER, seeded.v3.quoter, "quoteExactInputSingle",
                (token_in, token_out, amount_in, chain_pool.fee, 0),
            )  # fmt: skip
            crossings += crossed
            routed = model.amount_out(PoolToken(token_in), PoolToken(token_out), amount_in)
            assert routed == quoted > 0
    assert crossings > 0


def node_balance(node: Devnet, token: str, owner: str) -> int:
    (balance,) = node.call(ERC20, token, "balanceOf", owner)
    return int(balance)


def test_native_prices_from_weth_pairs() -> None:
    weth, tka = "0x" + "11" * 20, "0x" + "22" * 20

    def pair(w: int, t: int) -> dto.ConstantProductPool:
        return dto.ConstantProductPool(
            id=f"p{w}",
            address="0x" + "33" * 20,
            router="0x" + "44" * 20,
            gas_estimate=dto.U256(90_000),
            tokens={
                weth: dto.ConstantProductReserve(balance=dto.U256(w)),
                tka: dto.ConstantProductReserve(balance=dto.U256(t)),
            },
            fee="0.003",
        )

    # the deeper pair sets the price, rounded down
    prices = native_prices([pair(10, 3), pair(3 * E18, 7 * 10**6)], weth)
    assert prices == {weth: E18, tka: 3 * E18 * E18 // (7 * 10**6)}

    # two hops out through a V3 pool: TKB is token1 of (TKA, TKB) at sqrtP = 2 * 2^96, so
    # 1 TKA = 4 TKB and a TKB is worth a quarter of a TKA
    tkb = "0x" + "55" * 20
    v3 = dto.ConcentratedLiquidityPool(
        id="v3",
        address="0x" + "66" * 20,
        router="0x" + "44" * 20,
        gas_estimate=dto.U256(110_000),
        tokens=[tka, tkb],
        sqrt_price=dto.U256(2 * 2**96),
        liquidity=str(10**24),
        tick=13863,
        liquidity_net={},
        fee="0.003",
    )
    two_hops = native_prices([pair(E18, 2 * E18), v3], weth)
    assert two_hops == {weth: E18, tka: E18 // 2, tkb: E18 // 8}


async def test_file_liquidity_serves_the_auction_file_pools(tmp_path: Path) -> None:
    auction = dto.Auction(
        id="5",
        tokens={},
        orders=[],
        liquidity=[
            dto.ConstantProductPool(
                id="7",
                address="0x" + "33" * 20,
                router="0x" + "44" * 20,
                gas_estimate=dto.U256(90_000),
                tokens={
                    "0x" + "11" * 20: dto.ConstantProductReserve(balance=dto.U256(5)),
                    "0x" + "22" * 20: dto.ConstantProductReserve(balance=dto.U256(9)),
                },
                fee="0.003",
            )
        ],
        effective_gas_price=dto.U256(1),
        deadline=datetime.now(UTC),
        surplus_capturing_jit_order_owners=[],
    )
    path = tmp_path / "auction.json"
    path.write_bytes(dto.encode(auction))
    assert await FileLiquidity.load(path).liquidity() == auction.liquidity
