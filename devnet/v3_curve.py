"""A Uniswap V3 pool's liquidity curve written straight into the pool contract's storage.

Minting the snapshot's ~12,000 positions through the position manager took minutes and
could not hit the liquidities exactly (it derives them from amounts, rounding down). So a
pool is created and initialised at the snapshot's price by the factory, and then its
active liquidity, each initialized tick's liquidityNet and the tick bitmap are written
with ``anvil_setStorageAt`` (``v3_liquidity_storage``); the pool is sent the tokens
positions with that curve would hold (``v3_token_amounts``).

A pool orders its tokens by address: where the devnet addresses sort the other way round
than the mainnet ones, the curve is mirrored (``mirror_v3``). Prices and token amounts use
routing's ``TickMath`` and ``SqrtPriceMath``, the contracts' own integer math.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise

from intents.keccak import keccak256
from routing.sqrt_price_math import amount0_delta, amount1_delta
from routing.tick_math import MAX_SQRT_RATIO, MIN_SQRT_RATIO, sqrt_ratio_at_tick

_MARGIN_BITS = 40  # funded amounts are raised by 2^-40 (and 2 wei): never short by rounding


@dataclass(frozen=True, slots=True)
class V3Curve:
    """A V3 pool's price and liquidity curve: ``sqrt_price`` (Q96), the tick it lies in
    (nominally), the active ``liquidity`` there and each initialized tick's liquidityNet."""

    sqrt_price: int
    tick: int
    liquidity: int
    net: Mapping[int, int]


def mirror_v3(curve: V3Curve) -> V3Curve:
    """The same pool with token0 and token1 swapped: the price of token0 in token1 becomes
    that of token1 in token0 (``2^192 / sqrtP``, rounded to nearest and kept within
    TickMath's bounds), a position [l, u] becomes [-u, -l] (tick t with liquidityNet n
    becomes tick -t with -n). A price inside tick t's range [t, t+1) lies inside -t-1's
    after mirroring, where the same liquidity is active."""
    sqrt_price = (2**193 // curve.sqrt_price + 1) // 2
    return V3Curve(
        sqrt_price=min(max(sqrt_price, MIN_SQRT_RATIO), MAX_SQRT_RATIO - 1),
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
    """What positions making up this liquidity curve would hold at ``sqrt_price``: per
    span between initialized ticks, the amounts ``mint`` would take for its liquidity
    (``SqrtPriceMath``, rounded up), plus a margin."""
    amount0 = amount1 = 0
    for lower, upper, liquidity in _spans(liquidity_net):
        sa, sb = sqrt_ratio_at_tick(lower), sqrt_ratio_at_tick(upper)
        s = min(max(sqrt_price, sa), sb)
        amount0 += amount0_delta(s, sb, liquidity, round_up=True) if s < sb else 0
        amount1 += amount1_delta(sa, s, liquidity, round_up=True) if s > sa else 0
    return _with_margin(amount0), _with_margin(amount1)


def _spans(liquidity_net: Mapping[int, int]) -> list[tuple[int, int, int]]:
    """(lower, upper, liquidity) for each span between initialized ticks with liquidity."""
    ticks = sorted(liquidity_net.items())
    spans, running = [], 0
    for (tick, net), (next_tick, _) in pairwise(ticks):
        running += net
        if running > 0:
            spans.append((tick, next_tick, running))
    return spans


def _with_margin(amount: int) -> int:
    return amount + (amount >> _MARGIN_BITS) + 2 if amount else 0
