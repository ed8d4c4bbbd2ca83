"""Seed the devnet with real mainnet liquidity from an auction snapshot.

The snapshot (a legacy-format auction file) is parsed by routing's one legacy parser
(``routing.parse_snapshot``). A
chosen set of its tokens (default: WETH, USDC, USDT, DAI, WBTC and the most connected
others) is deployed as mintable ERC-20s with the real decimals, and every Uniswap V2 and
V3 pool among them is recreated with the published contracts:

- V2 pairs (0.3% fee only: UniswapV2Pair's fee is fixed) get exactly the snapshot reserves;
  dust pairs (sqrt(r0*r1) <= 1000, below the pair's minimum liquidity) are left out. A token
  pair listed twice (Uniswap and a fork) gets a second factory.
- V3 pools of the factory's fee tiers (tier 100 is enabled for the snapshot's 0.01% pools)
  are created and initialised at the snapshot's sqrt price; then the snapshot's liquidity
  curve is written into the pool's storage exactly, mirrored where the devnet addresses
  sort the tokens the other way round (``devnet.v3_curve``). The pools have no position
  NFTs: liquidity cannot be withdrawn.

The snapshot's WETH is the deployment's WETH9 (wrapped from ether the deployer is given).
``Seeded.to_dict`` is the ``liquidity`` member of the deployment file; the node reads the
pools from it as a ``settlement.chain_pools.PoolList`` (``Seeded.pool_list``).
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from math import isqrt
from pathlib import Path
from typing import Any

from devnet.anvil import Devnet, Tx
from devnet.artifacts import node_modules_dir
from devnet.errors import DevnetError
from devnet.uniswap import (
    ERC20,
    V2_FACTORY,
    V3_FACTORY,
    V3_POOL,
    WETH9,
    UniswapV2,
    UniswapV3,
    age_v2_pairs,
    deploy_uniswap_v2,
    deploy_uniswap_v3,
    v2_liquidity_txs,
)
from devnet.v3_curve import (
    V3Curve,
    mirror_v3,
    v3_liquidity_at,
    v3_liquidity_storage,
    v3_token_amounts,
)
from intents.types import Address, TokenAddress, to_address
from routing.liquidity import Snapshot, TokenInfo, parse_snapshot
from routing.pool import TokenAddress as PoolToken
from routing.uniswap_v2 import ConstantProductPool
from routing.uniswap_v3 import TICK_SPACING_BY_FEE, ConcentratedLiquidityPool
from settlement.chain_pools import ChainPool, PoolList
from settlement.deployment import Deployment
from settlement.interactions import PoolKind

logger = logging.getLogger(__name__)

MAINNET_WETH = to_address("0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2")
BASE_TOKENS = tuple(
    to_address(a)
    for a in (
        MAINNET_WETH,
        "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48",  # USDC
        "0xdac17f958d2ee523a2206206994597c13d831ec7",  # USDT
        "0x6b175474e89094c44da98b954eedeac495271d0f",  # DAI
        "0x2260fac5e5542a773aa44fbcfedf7c193bc2c599",  # WBTC
    )
)
SEED_SNAPSHOT_ENV = "TRIBUTARY_SEED_SNAPSHOT"
_DECIMALS_SLOT = 6  # ERC20PresetMinterPauser (OpenZeppelin 3.4): uint8 _decimals
_V2_FEE = (3, 1000)  # UniswapV2Pair's fixed fee
_V2_MINIMUM_LIQUIDITY = 1000
_CREATE_GAS = 6_000_000

_SeedablePool = ConstantProductPool | ConcentratedLiquidityPool


@dataclass(frozen=True, slots=True)
class SeededPool:
    kind: str
    """"uniswap_v2" or "uniswap_v3"."""
    address: Address
    mainnet_address: Address
    factory: Address
    token0: TokenAddress
    token1: TokenAddress
    fee: int
    """In millionths (V2: 3000; V3: the fee tier)."""
    ticks: tuple[int, ...] = ()
    """V3: the initialized ticks written into the devnet pool (sorted); V2: none."""


@dataclass(frozen=True, slots=True)
class Seeded:
    v2: UniswapV2
    v3: UniswapV3
    tokens: Mapping[Address, TokenAddress]
    """Mainnet address -> devnet address."""
    pools: tuple[SeededPool, ...]

    def pool_list(self) -> PoolList:
        """The seeded pools as the node reads them (what ``PoolList.from_dict`` of
        ``to_dict()`` gives)."""
        routers = {"uniswap_v2": self.v2.router, "uniswap_v3": self.v3.router}
        kinds = {"uniswap_v2": PoolKind.UNISWAP_V2, "uniswap_v3": PoolKind.UNISWAP_V3}
        pools = tuple(
            ChainPool(kinds[p.kind], p.address, p.token0, p.token1, p.fee, routers[p.kind], p.ticks)
            for p in self.pools
        )
        return PoolList(pools, self.v3.router)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the ``liquidity`` member of the devnet deployment file)."""
        return {
            "uniswapV2": {"factory": self.v2.factory, "router": self.v2.router},
            "uniswapV3": {
                "factory": self.v3.factory,
                "positionManager": self.v3.position_manager,
                "quoter": self.v3.quoter,
                "router": self.v3.router,
            },
            "tokens": dict(self.tokens),
            "pools": [
                {
                    "kind": p.kind,
                    "address": p.address,
                    "mainnetAddress": p.mainnet_address,
                    "factory": p.factory,
                    "token0": p.token0,
                    "token1": p.token1,
                    "fee": p.fee,
                    "ticks": list(p.ticks),
                }
                for p in self.pools
            ],
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Seeded:
        v2, v3 = raw["uniswapV2"], raw["uniswapV3"]
        return cls(
            v2=UniswapV2(to_address(v2["factory"]), to_address(v2["router"])),
            v3=UniswapV3(
                to_address(v3["factory"]),
                to_address(v3["positionManager"]),
                to_address(v3["quoter"]),
                to_address(v3["router"]),
            ),
            tokens={to_address(m): TokenAddress(to_address(d)) for m, d in raw["tokens"].items()},
            pools=tuple(
                SeededPool(
                    kind=str(p["kind"]),
                    address=to_address(p["address"]),
                    mainnet_address=to_address(p["mainnetAddress"]),
                    factory=to_address(p["factory"]),
                    token0=TokenAddress(to_address(p["token0"])),
                    token1=TokenAddress(to_address(p["token1"])),
                    fee=int(p["fee"]),
                    ticks=tuple(int(t) for t in p["ticks"]),
                )
                for p in raw["pools"]
            ),
        )


def default_seed_snapshot() -> str:
    """``$TRIBUTARY_SEED_SNAPSHOT``, else the shared mainnet auction next to the repository
    (``../shared/data/auctions/mainnet-7400681.json``), else ``"none"`` (no seeding)."""
    override = os.environ.get(SEED_SNAPSHOT_ENV)
    if override:
        return override
    path = node_modules_dir().parent.parent / "shared/data/auctions/mainnet-7400681.json"
    return str(path) if path.is_file() else "none"


def load_snapshot(path: str | Path) -> Snapshot:
    """The auction file at ``path`` parsed by routing (pools it cannot model are skipped)."""
    return parse_snapshot(json.loads(Path(path).read_text()))


def load_seeded(deployment_path: str | Path) -> Seeded | None:
    """The seeded liquidity recorded in a ``tributary devnet`` deployment file, if any."""
    raw = json.loads(Path(deployment_path).read_text()).get("liquidity")
    return None if raw is None else Seeded.from_dict(raw)


def select_tokens(snapshot: Snapshot, count: int = 20) -> list[Address]:
    """The base tokens plus the ``count`` others with the most seedable pools."""
    degree: Counter[Address] = Counter()
    for pool in _seedable(snapshot, None):
        degree.update(_pool_tokens(pool))
    ranked = [t for t, _ in degree.most_common() if t not in BASE_TOKENS]
    listed = {to_address(t) for t in snapshot.tokens}
    return [*(t for t in BASE_TOKENS if t in listed), *ranked[:count]]


def seed(
    devnet: Devnet,
    deployment: Deployment,
    snapshot: Snapshot,
    tokens: Sequence[Address] | None = None,
) -> Seeded:
    """Deploy the tokens (default ``select_tokens``) and every V2/V3 pool among them."""
    chosen = set(tokens if tokens is not None else select_tokens(snapshot))
    pools = list(_seedable(snapshot, chosen))
    me = deployment.deployer.address
    v2 = deploy_uniswap_v2(devnet, deployment.weth)
    v3 = deploy_uniswap_v3(devnet, deployment.weth)
    token_map = _deploy_tokens(devnet, deployment, snapshot, chosen)

    # Every token the pools need comes from the deployer: mint test tokens, wrap ether.
    devnet.rpc("anvil_setBalance", me, hex(2**121))  # anvil refuses values >= ~2^128
    funding = [
        Tx(me, ERC20.encode_call("mint", me, 2**200), devnet_token)
        for mainnet, devnet_token in token_map.items()
        if mainnet != MAINNET_WETH
    ]
    funding.append(Tx(me, WETH9.encode_call("deposit"), deployment.weth, value=2**120))
    funding.append(Tx(me, V3_FACTORY.encode_call("enableFeeAmount", 100, 1), v3.factory))
    devnet.send(funding)

    v2_pools = [p for p in pools if isinstance(p, ConstantProductPool)]
    v3_pools = [p for p in pools if isinstance(p, ConcentratedLiquidityPool)]
    seeded = [
        *_seed_v2(devnet, me, v2, v2_pools, token_map),
        *_seed_v3(devnet, me, v3, v3_pools, token_map),
    ]
    logger.info(
        "seeded %d tokens, %d V2 pairs and %d V3 pools from the snapshot",
        len(token_map),
        len(v2_pools),
        len(v3_pools),
    )
    return Seeded(v2=v2, v3=v3, tokens=token_map, pools=tuple(seeded))


# -- selection ----------------------------------------------------------------------------


def _pool_tokens(pool: _SeedablePool) -> list[Address]:
    """The pool's mainnet tokens, sorted (token0, token1)."""
    return sorted(to_address(t) for t in pool.tokens)


def _seedable(snapshot: Snapshot, chosen: set[Address] | None) -> Iterable[_SeedablePool]:
    """V2 pools with the 0.3% fee (except dust) and V3 pools of a fee tier the factory
    knows, among ``chosen`` tokens."""
    for pool in snapshot.pools:
        if isinstance(pool, ConstantProductPool):
            if (pool.fee_num, pool.fee_den) != _V2_FEE:
                continue
            r0, r1 = pool.reserves
            if isqrt(r0 * r1) <= _V2_MINIMUM_LIQUIDITY:
                continue  # dust: UniswapV2Pair.mint cannot create it
        elif (
            not isinstance(pool, ConcentratedLiquidityPool)
            or pool.fee_pips not in TICK_SPACING_BY_FEE
        ):
            continue
        if chosen is None or set(_pool_tokens(pool)) <= chosen:
            yield pool


def _sorted_pair(
    pool: _SeedablePool, token_map: Mapping[Address, TokenAddress]
) -> tuple[TokenAddress, TokenAddress]:
    """The pool's devnet tokens as (token0, token1): sorted by devnet address."""
    a, b = sorted((token_map[t] for t in _pool_tokens(pool)), key=lambda t: int(t, 16))
    return a, b


# -- deployment ---------------------------------------------------------------------------


def _token_info(snapshot: Snapshot, token: Address) -> TokenInfo | None:
    return snapshot.tokens.get(PoolToken(token))


def _deploy_tokens(
    devnet: Devnet, deployment: Deployment, snapshot: Snapshot, chosen: set[Address]
) -> dict[Address, TokenAddress]:
    others = sorted(chosen - {MAINNET_WETH})
    infos = [_token_info(snapshot, a) for a in others]
    symbols = [(i.symbol if i else None) or a[:10] for a, i in zip(others, infos, strict=True)]
    addresses = devnet.deploy_many([(ERC20, (s, s)) for s in symbols])
    decimals = [i.decimals if i and i.decimals is not None else 18 for i in infos]
    # The preset's decimals are fixed at 18: set the storage its decimals() reads.
    devnet.rpc_batch(
        [
            ("anvil_setStorageAt", (address, hex(_DECIMALS_SLOT), _word(d)))
            for address, d in zip(addresses, decimals, strict=True)
        ]
    )
    answers = devnet.call_many([(ERC20, a, "decimals", ()) for a in addresses])
    if answers != [(d,) for d in decimals]:
        raise DevnetError(f"token decimals {answers} are not the snapshot's {decimals}")
    token_map: dict[Address, TokenAddress] = {MAINNET_WETH: deployment.weth}
    token_map.update((m, TokenAddress(a)) for m, a in zip(others, addresses, strict=True))
    return token_map


def _seed_v2(
    devnet: Devnet,
    me: Address,
    v2: UniswapV2,
    pairs: Sequence[ConstantProductPool],
    token_map: Mapping[Address, TokenAddress],
) -> list[SeededPool]:
    """One pair per snapshot pool; a token pair seen again (Uniswap and a fork such as
    SushiSwap both list it) goes to one more factory, as on mainnet."""
    seen: Counter[tuple[TokenAddress, TokenAddress]] = Counter()
    placed = []
    for pool in pairs:
        tokens = _sorted_pair(pool, token_map)
        placed.append((pool, tokens, seen[tokens]))
        seen[tokens] += 1
    extra = devnet.deploy_many([(V2_FACTORY, (me,))] * (max(seen.values(), default=1) - 1))
    factories = [v2.factory, *extra]
    devnet.send(
        [
            Tx(me, V2_FACTORY.encode_call("createPair", *t), factories[i], gas=_CREATE_GAS)
            for _, t, i in placed
        ]
    )
    found = devnet.call_many([(V2_FACTORY, factories[i], "getPair", t) for _, t, i in placed])
    seeded, fills = [], []
    for (pool, (a, b), i), (pair,) in zip(placed, found, strict=True):
        pair = to_address(pair)
        reserves = {
            token_map[to_address(t)]: r for t, r in zip(pool.tokens, pool.reserves, strict=True)
        }
        fills += v2_liquidity_txs(me, pair, a, reserves[a], b, reserves[b])
        seeded.append(SeededPool("uniswap_v2", pair, to_address(pool.id), factories[i], a, b, 3000))
    devnet.send(fills)
    age_v2_pairs(devnet, [p.address for p in seeded], me)
    return seeded


def _seed_v3(
    devnet: Devnet,
    me: Address,
    v3: UniswapV3,
    pools: Sequence[ConcentratedLiquidityPool],
    token_map: Mapping[Address, TokenAddress],
) -> list[SeededPool]:
    keys = [(*_sorted_pair(pool, token_map), pool.fee_pips) for pool in pools]
    devnet.send(
        [
            Tx(me, V3_FACTORY.encode_call("createPool", *key), v3.factory, gas=_CREATE_GAS,
               what="createPool")
            for key in keys
        ]
    )  # fmt: skip
    found = devnet.call_many([(V3_FACTORY, v3.factory, "getPool", key) for key in keys])
    addresses = [to_address(pool) for (pool,) in found]
    curves = [_devnet_curve(pool, token_map) for pool in pools]
    devnet.send(
        [
            Tx(me, V3_POOL.encode_call("initialize", curve.sqrt_price), address)
            for curve, address in zip(curves, addresses, strict=True)
        ]
    )
    # The pool derives its tick from the price: a mirrored price sitting on a tick boundary
    # may land one tick off the nominal one, and the active liquidity must agree with it.
    slot0s = devnet.call_many([(V3_POOL, address, "slot0", ()) for address in addresses])
    seeded, funding, writes = [], [], []
    for pool, (token0, token1, fee), address, curve, slot0 in zip(
        pools, keys, addresses, curves, slot0s, strict=True
    ):
        liquidity = v3_liquidity_at(curve.net, curve.liquidity, curve.tick, int(slot0[1]))
        writes += [(address, slot, value) for slot, value in v3_liquidity_storage(
            curve.net, pool.tick_spacing, int(slot0[1]), liquidity
        )]  # fmt: skip
        amount0, amount1 = v3_token_amounts(curve.net, curve.sqrt_price)
        funding += [
            Tx(me, ERC20.encode_call("transfer", address, amount0), token0),
            Tx(me, ERC20.encode_call("transfer", address, amount1), token1),
        ]
        seeded.append(
            SeededPool(
                "uniswap_v3",
                address,
                to_address(pool.id),
                v3.factory,
                token0,
                token1,
                fee,
                tuple(sorted(curve.net)),
            )
        )
    devnet.send(funding)
    devnet.rpc_batch([("anvil_setStorageAt", (p, hex(k), _word(v))) for p, k, v in writes])
    return seeded


def _devnet_curve(
    pool: ConcentratedLiquidityPool, token_map: Mapping[Address, TokenAddress]
) -> V3Curve:
    """The snapshot pool's curve as the devnet pool (tokens sorted by devnet address) holds
    it: mirrored when the devnet addresses sort the pool's tokens the other way round."""
    curve = V3Curve(
        sqrt_price=pool.sqrt_price_x96,
        tick=pool.tick,
        liquidity=pool.liquidity,
        net=dict(pool.liquidity_net),
    )
    flipped = token_map[_pool_tokens(pool)[0]] != _sorted_pair(pool, token_map)[0]
    return mirror_v3(curve) if flipped else curve


def _word(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()
