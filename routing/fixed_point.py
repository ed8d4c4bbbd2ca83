"""Balancer V2 18-decimal fixed point: ``FixedPoint`` and ``LogExpMath.pow``.

Values are ``uint256`` scaled by ``ONE = 10**18``. Signed intermediate divisions in
``LogExpMath`` truncate toward zero as in Solidity (``_tdiv``), not toward minus infinity as
Python's ``//`` does. ``pow`` is accurate to ``MAX_POW_RELATIVE_ERROR``; ``pow_up`` and
``pow_down`` widen it by that error to round in the protocol's favour.
"""

from __future__ import annotations

from routing.pool import PoolMathError

ONE = 10**18
TWO = 2 * ONE
FOUR = 4 * ONE
MAX_POW_RELATIVE_ERROR = 10_000  # 1e-14
_MAX_UINT256 = 2**256 - 1


def _checked(value: int) -> int:
    if not 0 <= value <= _MAX_UINT256:
        raise PoolMathError("fixed-point result outside uint256")
    return value


def sub(a: int, b: int) -> int:
    """Checked ``a - b`` (reverts below zero)."""
    if b > a:
        raise PoolMathError("fixed-point subtraction underflow")
    return a - b


def mul_down(a: int, b: int) -> int:
    return _checked(a * b) // ONE


def mul_up(a: int, b: int) -> int:
    product = _checked(a * b)
    return 0 if product == 0 else (product - 1) // ONE + 1


def div_down(a: int, b: int) -> int:
    if b == 0:
        raise PoolMathError("fixed-point division by zero")
    return 0 if a == 0 else _checked(a * ONE) // b


def div_up(a: int, b: int) -> int:
    if b == 0:
        raise PoolMathError("fixed-point division by zero")
    return 0 if a == 0 else (_checked(a * ONE) - 1) // b + 1


def complement(x: int) -> int:
    """``1 - x``, floored at zero."""
    return ONE - x if x < ONE else 0


def math_div_up(a: int, b: int) -> int:
    """Balancer ``Math.divUp`` on plain integers."""
    if b == 0:
        raise PoolMathError("division by zero")
    return 0 if a == 0 else (a - 1) // b + 1


def pow_down(x: int, y: int, shortcuts: bool) -> int:
    """``x ** y`` rounded down. ``shortcuts``: the newer ``FixedPoint`` that computes
    ``y`` = 1, 2 and 4 exactly by multiplication instead of through ``LogExpMath``."""
    if shortcuts:
        if y == ONE:
            return x
        if y == TWO:
            return mul_down(x, x)
        if y == FOUR:
            square = mul_down(x, x)
            return mul_down(square, square)
    raw = log_exp_pow(x, y)
    max_error = mul_up(raw, MAX_POW_RELATIVE_ERROR) + 1
    return 0 if raw < max_error else raw - max_error


def pow_up(x: int, y: int, shortcuts: bool) -> int:
    """``x ** y`` rounded up; see ``pow_down`` for ``shortcuts``."""
    if shortcuts:
        if y == ONE:
            return x
        if y == TWO:
            return mul_up(x, x)
        if y == FOUR:
            square = mul_up(x, x)
            return mul_up(square, square)
    raw = log_exp_pow(x, y)
    return raw + mul_up(raw, MAX_POW_RELATIVE_ERROR) + 1


# -- LogExpMath ------------------------------------------------------------------------------

_ONE_20 = 10**20
_ONE_36 = 10**36
_MAX_NATURAL_EXPONENT = 130 * ONE
_MIN_NATURAL_EXPONENT = -41 * ONE
_LN_36_LOWER_BOUND = ONE - 10**17
_LN_36_UPPER_BOUND = ONE + 10**17
_MILD_EXPONENT_BOUND = 2**254 // _ONE_20

# e ** x_n for x_n = 2 ** (7 - n): the first two in 18 decimals and without decimals in a_n,
# the rest in 20 decimals.
_X0, _A0 = 128 * ONE, 38877084059945950922200000000000000000000000000000000000
_X1, _A1 = 64 * ONE, 6235149080811616882910000000
_TABLE_20 = (
    (3200000000000000000000, 7896296018268069516100000000000000),
    (1600000000000000000000, 888611052050787263676000000),
    (800000000000000000000, 298095798704172827474000),
    (400000000000000000000, 5459815003314423907810),
    (200000000000000000000, 738905609893065022723),
    (100000000000000000000, 271828182845904523536),
    (50000000000000000000, 164872127070012814685),
    (25000000000000000000, 128402541668774148407),
    (12500000000000000000, 113314845306682631683),
    (6250000000000000000, 106449445891785942956),
)


def _tdiv(a: int, b: int) -> int:
    """Solidity signed division: truncate toward zero."""
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def log_exp_pow(x: int, y: int) -> int:
    """``LogExpMath.pow``: ``exp(y * ln(x))`` in 18 decimals."""
    if y == 0:
        return ONE
    if x == 0:
        return 0
    if x >> 255:
        raise PoolMathError("pow: base out of bounds")
    if y >= _MILD_EXPONENT_BOUND:
        raise PoolMathError("pow: exponent out of bounds")
    if _LN_36_LOWER_BOUND < x < _LN_36_UPPER_BOUND:
        ln_36_x = _ln_36(x)
        logx_times_y = _tdiv(ln_36_x, ONE) * y + _tdiv(
            (ln_36_x - _tdiv(ln_36_x, ONE) * ONE) * y, ONE
        )
    else:
        logx_times_y = _ln(x) * y
    logx_times_y = _tdiv(logx_times_y, ONE)
    if not _MIN_NATURAL_EXPONENT <= logx_times_y <= _MAX_NATURAL_EXPONENT:
        raise PoolMathError("pow: product out of bounds")
    return _exp(logx_times_y)


def _exp(x: int) -> int:
    if not _MIN_NATURAL_EXPONENT <= x <= _MAX_NATURAL_EXPONENT:
        raise PoolMathError("exp: argument out of bounds")
    if x < 0:
        return (ONE * ONE) // _exp(-x)
    if x >= _X0:
        x -= _X0
        first_an = _A0
    elif x >= _X1:
        x -= _X1
        first_an = _A1
    else:
        first_an = 1
    x *= 100
    product = _ONE_20
    for x_n, a_n in _TABLE_20[:8]:
        if x >= x_n:
            x -= x_n
            product = product * a_n // _ONE_20
    series_sum = _ONE_20 + x
    term = x
    for k in range(2, 13):
        term = term * x // _ONE_20 // k
        series_sum += term
    return product * series_sum // _ONE_20 * first_an // 100


def _ln(a: int) -> int:
    if a < ONE:
        return -_ln(ONE * ONE // a)
    total = 0
    if a >= _A0 * ONE:
        a //= _A0
        total += _X0
    if a >= _A1 * ONE:
        a //= _A1
        total += _X1
    total *= 100
    a *= 100
    for x_n, a_n in _TABLE_20:
        if a >= a_n:
            a = a * _ONE_20 // a_n
            total += x_n
    z = (a - _ONE_20) * _ONE_20 // (a + _ONE_20)
    z_squared = z * z // _ONE_20
    num = z
    series_sum = num
    for k in (3, 5, 7, 9, 11):
        num = num * z_squared // _ONE_20
        series_sum += num // k
    return (total + series_sum * 2) // 100


def _ln_36(x: int) -> int:
    x *= ONE
    z = _tdiv((x - _ONE_36) * _ONE_36, x + _ONE_36)
    z_squared = _tdiv(z * z, _ONE_36)
    num = z
    series_sum = num
    for k in (3, 5, 7, 9, 11, 13, 15):
        num = _tdiv(num * z_squared, _ONE_36)
        series_sum += _tdiv(num, k)
    return series_sum * 2
