"""Uniswap V3 ``TickMath``: the sqrt price (Q64.96) of a tick and the tick of a sqrt price.

``sqrt_ratio_at_tick(t) = sqrt(1.0001 ** t) * 2**96`` rounded up, computed exactly as the
contract does: a product of Q128.128 constants ``2**128 / sqrt(1.0001) ** (2**i)``, one per
set bit of ``|t|``. ``tick_at_sqrt_ratio(p)`` is the greatest tick whose ratio is ``<= p``,
via the contract's binary logarithm.
"""

from __future__ import annotations

from functools import lru_cache

from routing.pool import PoolMathError

MIN_TICK = -887272
MAX_TICK = 887272
MIN_SQRT_RATIO = 4295128739
MAX_SQRT_RATIO = 1461446703485210103287273052203988822378723970342

# Q128.128 value of 1 / sqrt(1.0001) ** (2**i), for bit i of |tick| (i = 0 .. 19).
_BIT_FACTORS = (
    0xFFFCB933BD6FAD37AA2D162D1A594001,
    0xFFF97272373D413259A46990580E213A,
    0xFFF2E50F5F656932EF12357CF3C7FDCC,
    0xFFE5CACA7E10E4E61C3624EAA0941CD0,
    0xFFCB9843D60F6159C9DB58835C926644,
    0xFF973B41FA98C081472E6896DFB254C0,
    0xFF2EA16466C96A3843EC78B326B52861,
    0xFE5DEE046A99A2A811C461F1969C3053,
    0xFCBE86C7900A88AEDCFFC83B479AA3A4,
    0xF987A7253AC413176F2B074CF7815E54,
    0xF3392B0822B70005940C7A398E4B70F3,
    0xE7159475A2C29B7443B29C7FA6E889D9,
    0xD097F3BDFD2022B8845AD8F792AA5825,
    0xA9F746462D870FDF8A65DC1F90E061E5,
    0x70D869A156D2A1B890BB3DF62BAF32F7,
    0x31BE135F97D08FD981231505542FCFA6,
    0x9AA508B5B7A84E1C677DE54F3E99BC9,
    0x5D6AF8DEDB81196699C329225EE604,
    0x2216E584F5FA1EA926041BEDFE98,
    0x48A170391F7DC42444E8FA2,
)
_MAX_UINT256 = 2**256 - 1
_LOG_SQRT10001 = 255738958999603826347141
_TICK_LOW_OFFSET = 3402992956809132418596140100660247210
_TICK_HIGH_OFFSET = 291339464771989622907027621153398088495


@lru_cache(maxsize=65536)
def sqrt_ratio_at_tick(tick: int) -> int:
    """``TickMath.getSqrtRatioAtTick``."""
    abs_tick = abs(tick)
    if abs_tick > MAX_TICK:
        raise PoolMathError(f"tick {tick} outside [{MIN_TICK}, {MAX_TICK}]")
    ratio = _BIT_FACTORS[0] if abs_tick & 1 else 1 << 128
    for bit in range(1, 20):
        if abs_tick >> bit & 1:
            ratio = ratio * _BIT_FACTORS[bit] >> 128
    if tick > 0:
        ratio = _MAX_UINT256 // ratio
    return (ratio >> 32) + (1 if ratio & 0xFFFFFFFF else 0)


def tick_at_sqrt_ratio(sqrt_price_x96: int) -> int:
    """``TickMath.getTickAtSqrtRatio``: greatest tick with ``sqrt_ratio_at_tick <= price``."""
    if not MIN_SQRT_RATIO <= sqrt_price_x96 < MAX_SQRT_RATIO:
        raise PoolMathError(f"sqrt price {sqrt_price_x96} outside the tick range")
    ratio = sqrt_price_x96 << 32
    msb = ratio.bit_length() - 1
    r = ratio >> (msb - 127) if msb >= 128 else ratio << (127 - msb)
    log_2 = (msb - 128) << 64
    for shift in range(63, 49, -1):
        r = r * r >> 127
        f = r >> 128
        log_2 |= f << shift
        r >>= f
    log_sqrt10001 = log_2 * _LOG_SQRT10001
    tick_low = (log_sqrt10001 - _TICK_LOW_OFFSET) >> 128
    tick_high = (log_sqrt10001 + _TICK_HIGH_OFFSET) >> 128
    if tick_low == tick_high:
        return tick_low
    return tick_high if sqrt_ratio_at_tick(tick_high) <= sqrt_price_x96 else tick_low
