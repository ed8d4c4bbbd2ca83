"""Seed the devnet with real mainnet liquidity from a legacy-format auction snapshot.

A chosen set of the snapshot's tokens (default: WETH, USDC, USDT, DAI, WBTC and the most
connected others) is deployed as mintable ERC-20s with the real decimals, and every Uniswap
V2 and V3 pool among them is recreated with the published contracts:

- V2 pairs (0.3% fee only: UniswapV2Pair's fee is fixed) get exactly the snapshot reserves;
  dust pairs (sqrt(r0*r1) <= 1000, below the pair's minimum liquidity) are left out. A token
  pair listed twice (Uniswap and a fork) gets a second factory.
- V3 pools are created by the factory and initialised at the snapshot's ``sqrt_price``;
  then the snapshot's liquidity curve is written into the pool's storage exactly (active
  liquidity, each initialized tick's liquidityNet, the tick bitmap). A pool orders its
  tokens by address: where the devnet addresses sort the other way round than the mainnet
  ones, the pool is mirrored (``mirror_v3``: reciprocal price, tick t with liquidityNet n
  becomes tick -t with -n), so each token keeps its mainnet price. The pool is given
  the tokens positions with that curve would hold (rounded up). Minting ~12,000 positions
  through the position manager instead took minutes and could not hit the liquidities
  exactly (it derives them from amounts, rounding down). Fee tier 100 is enabled for the
  snapshot's 0.01% pools. The pools have no position NFTs: liquidity cannot be withdrawn.

The snapshot's WETH is the deployment's WETH9 (wrapped from ether the deployer is given).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from math import isqrt
from pathlib import Path
from typing import Any

from intents.keccak import keccak256
from intents.types import Address, TokenAddress, to_address
from settlement.devnet import Deployment, Devnet, Tx
from settlement.devnet_uniswap import (
    ERC20,
    V2_FACTORY,
    V3_FACTORY,
    V3_POOL,
    WETH9,
    UniswapV2,
    UniswapV3,
    deploy_uniswap_v2,
    deploy_uniswap_v3,
    v2_liquidity_txs,
)

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
V3_FEES = {"0.0001": 100, "0.0005": 500, "0.003": 3000, "0.01": 10000}
V3_TICK_SPACING = {100: 1, 500: 10, 3000: 60, 10000: 200}
_DECIMALS_SLOT = 6  # ERC20PresetMinterPauser (OpenZeppelin 3.4): uint8 _decimals
_Q96 = 2**96
_MARGIN_BITS = 40  # amounts are raised by 2^-40 so rounded-down liquidity reaches the target
_V2_MINIMUM_LIQUIDITY = 1000
_CREATE_GAS = 6_000_000
_MINT_GAS = 1_000_000


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


def select_tokens(snapshot: Mapping[str, Any], count: int = 20) -> list[Address]:
    """The base tokens plus the ``count`` others with the most seedable pools."""
    degree: Counter[Address] = Counter()
    for amm in _seedable(snapshot, None):
        degree.update(_pool_tokens(amm))
    ranked = [t for t, _ in degree.most_common() if t not in BASE_TOKENS]
    listed = {to_address(t) for t in snapshot["tokens"]}
    return [*(t for t in BASE_TOKENS if t in listed), *ranked[:count]]


def seed(
    devnet: Devnet,
    deployment: Deployment,
    snapshot: Mapping[str, Any],
    tokens: Sequence[Address] | None = None,
) -> Seeded:
    """Deploy the tokens (default ``select_tokens``) and every V2/V3 pool among them."""
    chosen = set(tokens if tokens is not None else select_tokens(snapshot))
    amms = list(_seedable(snapshot, chosen))
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

    pools = [*_seed_v2(devnet, me, v2, amms, token_map), *_seed_v3(devnet, me, v3, amms, token_map)]
    logger.info(
        "seeded %d tokens, %d V2 pairs and %d V3 pools from the snapshot",
        len(token_map),
        sum(p.kind == "uniswap_v2" for p in pools),
        sum(p.kind == "uniswap_v3" for p in pools),
    )
    return Seeded(v2=v2, v3=v3, tokens=token_map, pools=tuple(pools))


def load_seeded(deployment_path: str | Path) -> Seeded | None:
    """The seeded liquidity recorded in a ``tributary devnet`` deployment file, if any."""
    raw = json.loads(Path(deployment_path).read_text()).get("liquidity")
    return None if raw is None else Seeded.from_dict(raw)


def load_snapshot(path: str | Path) -> dict[str, Any]:
    snapshot: dict[str, Any] = json.loads(Path(path).read_text())
    return snapshot


# -- selection ----------------------------------------------------------------------------


def _pool_tokens(amm: Mapping[str, Any]) -> list[Address]:
    if amm["kind"] == "ConstantProduct":
        return sorted(to_address(t) for t in amm["reserves"])
    return sorted(to_address(t["id"]) for t in amm["pool"]["tokens"])


def _seedable(
    snapshot: Mapping[str, Any], chosen: set[Address] | None
) -> Iterable[Mapping[str, Any]]:
    """V2 pools with the 0.3% fee (except dust) and V3 pools of a known fee tier, among
    ``chosen`` tokens."""
    for amm in snapshot["amms"].values():
        if amm["kind"] == "ConstantProduct" and amm["fee"] == "0.003":
            r0, r1 = (int(r) for r in amm["reserves"].values())
            if isqrt(r0 * r1) <= _V2_MINIMUM_LIQUIDITY:
                continue  # dust: UniswapV2Pair.mint cannot create it
        elif amm["kind"] != "Concentrated" or amm["fee"] not in V3_FEES:
            continue
        tokens = _pool_tokens(amm)
        if len(tokens) == 2 and (chosen is None or set(tokens) <= chosen):
            yield amm


def _sorted_pair(
    amm: Mapping[str, Any], token_map: Mapping[Address, TokenAddress]
) -> tuple[TokenAddress, TokenAddress]:
    """The pool's devnet tokens as (token0, token1): sorted by devnet address."""
    a, b = sorted((token_map[t] for t in _pool_tokens(amm)), key=lambda t: int(t, 16))
    return a, b


# -- deployment ---------------------------------------------------------------------------


def _deploy_tokens(
    devnet: Devnet, deployment: Deployment, snapshot: Mapping[str, Any], chosen: set[Address]
) -> dict[Address, TokenAddress]:
    others = sorted(chosen - {MAINNET_WETH})
    info = {to_address(a): t for a, t in snapshot["tokens"].items()}
    symbols = [str(info.get(a, {}).get("alias") or a[:10]) for a in others]
    addresses = devnet.deploy_many([(ERC20, (s, s)) for s in symbols])
    decimals = [int(info[a]["decimals"]) if a in info else 18 for a in others]
    # The preset's decimals are fixed at 18: set the storage its decimals() reads.
    devnet.rpc_batch(
        [
            ("anvil_setStorageAt", (address, hex(_DECIMALS_SLOT), _word(d)))
            for address, d in zip(addresses, decimals, strict=True)
        ]
    )
    answers = devnet.call_many([(ERC20, a, "decimals", ()) for a in addresses])
    if answers != [(d,) for d in decimals]:
        raise RuntimeError(f"token decimals {answers} are not the snapshot's {decimals}")
    token_map: dict[Address, TokenAddress] = {MAINNET_WETH: deployment.weth}
    token_map.update((m, TokenAddress(a)) for m, a in zip(others, addresses, strict=True))
    return token_map


def _seed_v2(
    devnet: Devnet,
    me: Address,
    v2: UniswapV2,
    amms: Sequence[Mapping[str, Any]],
    token_map: Mapping[Address, TokenAddress],
) -> list[SeededPool]:
    """One pair per snapshot pool; a token pair seen again (Uniswap and a fork such as
    SushiSwap both list it) goes to one more factory, as on mainnet."""
    pairs = [a for a in amms if a["kind"] == "ConstantProduct"]
    seen: Counter[tuple[TokenAddress, TokenAddress]] = Counter()
    placed = []
    for amm in pairs:
        tokens = _sorted_pair(amm, token_map)
        placed.append((amm, tokens, seen[tokens]))
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
    for (amm, (a, b), i), (pair,) in zip(placed, found, strict=True):
        pair = to_address(pair)
        reserves = {token_map[to_address(t)]: int(r) for t, r in amm["reserves"].items()}
        fills += v2_liquidity_txs(me, pair, a, reserves[a], b, reserves[b])
        seeded.append(
            SeededPool("uniswap_v2", pair, to_address(amm["address"]), factories[i], a, b, 3000)
        )
    devnet.send(fills)
    return seeded


def _seed_v3(
    devnet: Devnet,
    me: Address,
    v3: UniswapV3,
    amms: Sequence[Mapping[str, Any]],
    token_map: Mapping[Address, TokenAddress],
) -> list[SeededPool]:
    pools = [a for a in amms if a["kind"] == "Concentrated"]
    creates = []
    for amm in pools:
        call = V3_FACTORY.encode_call(
            "createPool", *_sorted_pair(amm, token_map), V3_FEES[amm["fee"]]
        )
        creates.append(Tx(me, call, v3.factory, gas=_CREATE_GAS, what="createPool"))
    devnet.send(creates)
    found = devnet.call_many(
        [
            (
                V3_FACTORY,
                v3.factory,
                "getPool",
                (*_sorted_pair(amm, token_map), V3_FEES[amm["fee"]]),
            )
            for amm in pools
        ]
    )
    curves = [_devnet_curve(amm, token_map) for amm in pools]
    devnet.send(
        [
            Tx(me, V3_POOL.encode_call("initialize", curve.sqrt_price), to_address(pool))
            for curve, (pool,) in zip(curves, found, strict=True)
        ]
    )
    # The pool derives its tick from the price: a mirrored price sitting on a tick boundary
    # may land one tick off the nominal one, and the active liquidity must agree with it.
    slot0s = devnet.call_many([(V3_POOL, to_address(pool), "slot0", ()) for (pool,) in found])
    seeded, funding, writes = [], [], []
    for amm, (pool,), curve, slot0 in zip(pools, found, curves, slot0s, strict=True):
        fee = V3_FEES[amm["fee"]]
        token0, token1 = _sorted_pair(amm, token_map)
        pool = to_address(pool)
        liquidity = v3_liquidity_at(curve.net, curve.liquidity, curve.tick, int(slot0[1]))
        writes += [(pool, slot, value) for slot, value in v3_liquidity_storage(
            curve.net, V3_TICK_SPACING[fee], int(slot0[1]), liquidity
        )]  # fmt: skip
        amount0, amount1 = v3_token_amounts(curve.net, curve.sqrt_price)
        funding += [
            Tx(me, ERC20.encode_call("transfer", pool, amount0), token0),
            Tx(me, ERC20.encode_call("transfer", pool, amount1), token1),
        ]
        seeded.append(
            SeededPool(
                "uniswap_v3",
                pool,
                to_address(amm["address"]),
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


@dataclass(frozen=True, slots=True)
class V3Curve:
    """A V3 pool's price and liquidity curve: ``sqrt_price`` (Q96), the tick it lies in
    (nominally), the active ``liquidity`` there and each initialized tick's liquidityNet."""

    sqrt_price: int
    tick: int
    liquidity: int
    net: Mapping[int, int]


# TickMath's bounds: a pool's sqrt price lies in [MIN_SQRT_RATIO, MAX_SQRT_RATIO).
_MIN_SQRT_RATIO = 4295128739
_MAX_SQRT_RATIO = 1461446703485210103287273052203988822378723970342


def mirror_v3(curve: V3Curve) -> V3Curve:
    """The same pool with token0 and token1 swapped: the price of token0 in token1 becomes
    that of token1 in token0 (``2^192 / sqrtP``, rounded to nearest and kept within
    TickMath's bounds), a position [l, u] becomes [-u, -l] (tick t with liquidityNet n
    becomes tick -t with -n). A price inside tick t's range [t, t+1) lies inside -t-1's
    after mirroring, where the same liquidity is active."""
    sqrt_price = (2**193 // curve.sqrt_price + 1) // 2
    return V3Curve(
        sqrt_price=min(max(sqrt_price, _MIN_SQRT_RATIO), _MAX_SQRT_RATIO - 1),
        tick=-curve.tick - 1,
        liquidity=curve.liquidity,
        net={-t: -n for t, n in curve.net.items()},
    )


def v3_liquidity_at(net: Mapping[int, int], liquidity: int, tick: int, to_tick: int) -> int:
    """The active liquidity at ``to_tick`` given ``liquidity`` at ``tick``: moving up
    across an initialized tick adds its liquidityNet, moving down subtracts it."""
    low, high = sorted((tick, to_tick))
    crossed = sum(n for t, n in net.items() if low < t <= high)
    return liquidity + crossed if to_tick >= tick else liquidity - crossed


def _devnet_curve(amm: Mapping[str, Any], token_map: Mapping[Address, TokenAddress]) -> V3Curve:
    """The snapshot pool's curve as the devnet pool (tokens sorted by devnet address) holds
    it: mirrored when the devnet addresses sort the pool's tokens the other way round."""
    state = amm["pool"]["state"]
    curve = V3Curve(
        sqrt_price=int(state["sqrt_price"]),
        tick=int(state["tick"]),
        liquidity=int(state["liquidity"]),
        net={int(t): int(n) for t, n in state["liquidity_net"].items()},
    )
    flipped = token_map[_pool_tokens(amm)[0]] != _sorted_pair(amm, token_map)[0]
    return mirror_v3(curve) if flipped else curve


# -- V3 liquidity written into the pool's storage -----------------------------------------
# UniswapV3Pool (v3-core 1.0) storage: slot 4 = liquidity (uint128); slot 5 = ticks
# (int24 => Tick.Info, 4 words: liquidityGross | liquidityNet << 128, feeGrowthOutside0,
# feeGrowthOutside1, tickCumulativeOutside | secondsPerLiquidityOutside | secondsOutside |
# initialized << 248); slot 6 = tickBitmap (int16 => uint256).

_LIQUIDITY_SLOT = 4
_TICKS_SLOT = 5
_BITMAP_SLOT = 6
_INITIALIZED = 1 << 248


def _mapping_slot(key: int, slot: int) -> int:
    """Storage slot of ``mapping[key]`` for a signed integer key (sign-extended)."""
    return int.from_bytes(keccak256((key % 2**256).to_bytes(32, "big") + slot.to_bytes(32, "big")))


def v3_liquidity_storage(
    liquidity_net: Mapping[int, int], tick_spacing: int, tick: int, liquidity: int
) -> list[tuple[int, int]]:
    """(slot, value) writes that give an initialised pool exactly this liquidity curve:
    active ``liquidity`` and, per initialized tick, ``liquidityNet`` (``liquidityGross``
    is set to ``|liquidityNet|``: nonzero, as the pool requires of initialized ticks)."""
    writes = [(_LIQUIDITY_SLOT, liquidity)]
    words: dict[int, int] = {}
    for t, net in liquidity_net.items():
        if t % tick_spacing or net == 0:
            raise ValueError(f"tick {t} (net {net}) is not an initialized tick of spacing "
                             f"{tick_spacing}")  # fmt: skip
        base = _mapping_slot(t, _TICKS_SLOT)
        writes.append((base, abs(net) | (net % 2**128) << 128))
        writes.append((base + 3, _INITIALIZED))
        compressed = t // tick_spacing
        words[compressed >> 8] = words.get(compressed >> 8, 0) | 1 << (compressed & 0xFF)
    writes += [(_mapping_slot(w, _BITMAP_SLOT), bits) for w, bits in words.items()]
    return writes


def v3_token_amounts(liquidity_net: Mapping[int, int], sqrt_price: int) -> tuple[int, int]:
    """What positions making up this liquidity curve would hold at ``sqrt_price``
    (rounded up per span, as the pool rounds amounts owed to it)."""
    amount0 = amount1 = 0
    for lower, upper, liquidity in _spans(liquidity_net):
        a0, a1 = _amounts_for_liquidity(sqrt_price, lower, upper, liquidity)
        amount0, amount1 = amount0 + a0, amount1 + a1
    return amount0, amount1


def _spans(liquidity_net: Mapping[int, int]) -> list[tuple[int, int, int]]:
    """(lower, upper, liquidity) for each span between initialized ticks with liquidity."""
    ticks = sorted(liquidity_net.items())
    spans, running = [], 0
    for (tick, net), (next_tick, _) in pairwise(ticks):
        running += net
        if running > 0:
            spans.append((tick, next_tick, running))
    return spans


def _sqrt_ratio_x96(tick: int) -> int:
    """sqrt(1.0001^tick) * 2^96 in integers, within ~2^-150 relative of exact (TickMath's
    own rounding differs at that level; amounts get a margin)."""
    one = 1 << 256
    price, base, n = one, 10001 * one // 10000, abs(tick)
    while n:
        if n & 1:
            price = price * base >> 256
        base = base * base >> 256
        n >>= 1
    if tick < 0:
        price = one * one // price
    return isqrt(price >> 64)  # price is Q256; its square root in Q96


def _amounts_for_liquidity(
    sqrt_price: int, lower: int, upper: int, liquidity: int
) -> tuple[int, int]:
    sa, sb = _sqrt_ratio_x96(lower), _sqrt_ratio_x96(upper)
    s = min(max(sqrt_price, sa), sb)
    amount0 = -(-liquidity * _Q96 * (sb - s) // (s * sb)) if s < sb else 0
    amount1 = -(-liquidity * (s - sa) // _Q96) if s > sa else 0
    return _with_margin(amount0), _with_margin(amount1)


def _with_margin(amount: int) -> int:
    return amount + (amount >> _MARGIN_BITS) + 2 if amount else 0


def _word(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()
