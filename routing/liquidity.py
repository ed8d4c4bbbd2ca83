"""Immutable liquidity snapshots from CoW auction documents (decoded JSON), in both formats.

* legacy instance format (``tokens``/``orders``/``amms``/``metadata``, e.g. the
  solver-template-py mainnet auction): ``amms`` kinds ``ConstantProduct``, ``Concentrated``,
  ``WeightedProduct``, ``Stable``; per-pool ``cost`` in native token, converted to gas units
  with ``metadata.gas_price``;
* current solver-engine format (``tokens``/``orders``/``liquidity``/``effectiveGasPrice``,
  the Rust DTOs of ``crates/solvers-dto``): kinds ``constantProduct``,
  ``concentratedLiquidity``, ``weightedProduct``, ``stable`` and (one-way) ``limitOrder``,
  with ``gasEstimate``.

Decimal strings (fees, weights, scaling factors) are converted exactly with ``Fraction``,
never through float. Entries this package cannot model (unknown kinds, malformed pools) are
kept in ``Snapshot.skipped`` with a code and a reason instead of failing the whole snapshot.
Orders are not parsed here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from types import MappingProxyType
from typing import Any

from routing.balancer_weighted import WeightedPool, WeightedToken
from routing.errors import RoutingError
from routing.limit_order import LimitOrderPool
from routing.pool import Pool, PoolId, PoolMathError, TokenAddress
from routing.stable import AMP_PRECISION, StablePool, StableToken
from routing.uniswap_v2 import ConstantProductPool
from routing.uniswap_v3 import ConcentratedLiquidityPool

logger = logging.getLogger(__name__)

Json = Mapping[str, Any]


class LiquidityFormatError(RoutingError, ValueError):
    """The document is not an auction in a format this module knows."""

    code = "LiquidityFormatError"


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What the auction says about a token. ``reference_price`` is CoW's ``referencePrice``:
    native-token wei for ``10**18`` base units of the token (``None`` when unknown)."""

    address: TokenAddress
    decimals: int | None
    symbol: str | None
    reference_price: int | None


@dataclass(frozen=True, slots=True)
class SkippedLiquidity:
    """A liquidity entry left out of the snapshot, and why."""

    id: str
    kind: str
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Pools, tokens and gas price of one auction; never mutated."""

    pools: tuple[Pool, ...]
    tokens: Mapping[TokenAddress, TokenInfo]
    gas_price: int
    """Wei per gas unit."""
    native_token: TokenAddress | None
    skipped: tuple[SkippedLiquidity, ...] = ()


def token_address(value: str) -> TokenAddress:
    """Normalise an address to this package's lowercase form."""
    text = value.lower()
    if len(text) != 42 or not text.startswith("0x"):
        raise LiquidityFormatError(f"not an address: {value!r}")
    int(text, 16)
    return TokenAddress(text)


def parse_snapshot(doc: Json) -> Snapshot:
    """Build a snapshot from a decoded auction document of either format; a document that
    is not one (a missing or mistyped field outside the pools) is a
    ``LiquidityFormatError`` (a malformed pool is skipped, not fatal)."""
    if not isinstance(doc, Mapping):
        raise LiquidityFormatError(f"an auction is a JSON object, not {type(doc).__name__}")
    if "amms" in doc:
        parse = _legacy
    elif "liquidity" in doc:
        parse = _solver
    else:
        raise LiquidityFormatError("auction has neither 'amms' (legacy) nor 'liquidity' (solver)")
    try:
        return parse(doc)
    except LiquidityFormatError:
        raise
    except KeyError as exc:
        raise LiquidityFormatError(f"auction lacks the field {exc}") from exc
    except (AttributeError, TypeError, ValueError, ArithmeticError) as exc:
        raise LiquidityFormatError(f"malformed auction: {type(exc).__name__}: {exc}") from exc


def decimal_fraction(value: str | int | float) -> Fraction:
    """An exact fraction from a decimal string (floats only from JSON numbers)."""
    return Fraction(value) if not isinstance(value, float) else Fraction(repr(value))


def _fee_pair(fee: Fraction) -> tuple[int, int]:
    return fee.numerator, fee.denominator


def _uint(value: str | int) -> int:
    """A ``HexOrDecimalU256``: ``0x`` hex or decimal digits."""
    text = str(value)
    number = int(text, 16) if text.startswith("0x") else int(text, 10)
    if number < 0:
        raise LiquidityFormatError(f"negative amount {value!r}")
    return number


def _pair(reserves: Mapping[str, int]) -> tuple[tuple[TokenAddress, TokenAddress], tuple[int, int]]:
    """Order a two-token reserve map by address, as Uniswap orders token0/token1."""
    if len(reserves) != 2:
        raise LiquidityFormatError(f"a pair needs two tokens, got {len(reserves)}")
    (t0, r0), (t1, r1) = sorted((token_address(t), r) for t, r in reserves.items())
    return (t0, t1), (r0, r1)


def _collect(
    entries: list[tuple[str, str, Json]],
    builders: Mapping[str, Callable[[str, Json], Pool]],
) -> tuple[tuple[Pool, ...], tuple[SkippedLiquidity, ...]]:
    pools: list[Pool] = []
    skipped: list[SkippedLiquidity] = []
    for ident, kind, entry in entries:
        builder = builders.get(kind)
        if builder is None:
            skipped.append(SkippedLiquidity(ident, kind, "UnsupportedKind", f"no model for {kind}"))
            continue
        try:
            pools.append(builder(ident, entry))
        except (PoolMathError, LiquidityFormatError, KeyError, ValueError, TypeError) as exc:
            code = getattr(exc, "code", "MalformedLiquidity")
            skipped.append(SkippedLiquidity(ident, kind, code, f"{type(exc).__name__}: {exc}"))
    if skipped:
        logger.info("skipped %d of %d liquidity entries", len(skipped), len(entries))
    return tuple(pools), tuple(skipped)


def _nearest(numerator: int, denominator: int) -> int:
    if denominator <= 0:
        raise LiquidityFormatError(f"non-positive divisor {denominator}")
    return (2 * numerator + denominator) // (2 * denominator)


def _scaled(value: Fraction, scale: int, what: str) -> int:
    """``value * scale`` as an exact integer, or a format error if it is not one."""
    scaled = value * scale
    if scaled.denominator != 1:
        raise LiquidityFormatError(f"{what} {value} is not a multiple of 1/{scale}")
    return scaled.numerator


def _concentrated(
    ident: str,
    tokens: list[str],
    sqrt_price: str | int,
    liquidity: str | int,
    tick: str | int,
    net: Mapping[str, str | int],
    fee: str,
    gas: int,
) -> ConcentratedLiquidityPool:
    pair = sorted(token_address(t) for t in tokens)
    if len(pair) != 2:
        raise LiquidityFormatError(f"a pool needs two tokens, got {len(pair)}")
    return ConcentratedLiquidityPool(
        id=PoolId(ident),
        tokens=(pair[0], pair[1]),
        sqrt_price_x96=_uint(sqrt_price),
        liquidity=_uint(liquidity),
        tick=int(tick),
        liquidity_net={int(t): int(n) for t, n in net.items()},
        fee_pips=_scaled(decimal_fraction(fee), 10**6, "fee"),
        gas=gas,
    )


_WAD = 10**18


def _weighted(
    ident: str,
    reserves: list[tuple[str, int, Fraction, int]],
    fee: str,
    pow_shortcuts: bool,
    gas: int,
) -> WeightedPool:
    """``reserves``: (address, balance, weight, 18-decimal scaling factor)."""
    return WeightedPool(
        id=PoolId(ident),
        reserves=tuple(
            sorted(
                (
                    WeightedToken(token_address(t), b, _scaled(w, _WAD, "weight"), factor)
                    for t, b, w, factor in reserves
                ),
                key=lambda token: token.address,
            )
        ),
        fee=_scaled(decimal_fraction(fee), _WAD, "fee"),
        pow_shortcuts=pow_shortcuts,
        gas=gas,
    )


def _stable(
    ident: str,
    reserves: list[tuple[str, int, int]],
    amp: str,
    fee: str,
    gas: int,
    address: str | None,
) -> StablePool:
    """``reserves``: (address, balance, 18-decimal scaling factor); Balancer registers
    tokens sorted by address, and the math's rounding depends on that order. A composable
    stable pool lists its own BPT (the pool ``address``) among its tokens; regular swaps
    ignore it, so it is dropped."""
    bpt = None if address is None else token_address(address)
    return StablePool(
        id=PoolId(ident),
        reserves=tuple(
            sorted(
                (StableToken(token_address(t), b, f) for t, b, f in reserves if t.lower() != bpt),
                key=lambda token: token.address,
            )
        ),
        amp=_scaled(decimal_fraction(amp), AMP_PRECISION, "amplification parameter"),
        fee=_scaled(decimal_fraction(fee), _WAD, "fee"),
        gas=gas,
    )


# -- legacy instance format ------------------------------------------------------------------


def _legacy(doc: Json) -> Snapshot:
    metadata = doc.get("metadata") or {}
    gas_price = decimal_fraction(metadata["gas_price"])
    if gas_price <= 0:
        raise LiquidityFormatError(f"gas price {gas_price} is not positive")
    native = metadata.get("native_token")
    tokens = {
        token_address(addr): TokenInfo(
            address=token_address(addr),
            decimals=None if info.get("decimals") is None else int(info["decimals"]),
            symbol=info.get("alias"),
            reference_price=(
                None
                if info.get("external_price") is None
                else int(decimal_fraction(info["external_price"]) * 10**18)
            ),
        )
        for addr, info in doc["tokens"].items()
    }

    def gas(entry: Json) -> int:
        return round(decimal_fraction(entry["cost"]["amount"]) / gas_price)

    def constant_product(ident: str, entry: Json) -> Pool:
        pair, reserves = _pair({t: _uint(r) for t, r in entry["reserves"].items()})
        num, den = _fee_pair(decimal_fraction(entry["fee"]))
        return ConstantProductPool(
            id=PoolId(ident),
            tokens=pair,
            reserves=reserves,
            fee_num=num,
            fee_den=den,
            gas=gas(entry),
        )

    def concentrated(ident: str, entry: Json) -> Pool:
        pool, state = entry["pool"], entry["pool"]["state"]
        return _concentrated(
            ident,
            [t["id"] for t in pool["tokens"]],
            state["sqrt_price"],
            state["liquidity"],
            state["tick"],
            state["liquidity_net"],
            entry["fee"],
            gas(entry),
        )

    def decimals_factor(token: str) -> int:
        decimals = tokens[token_address(token)].decimals
        if decimals is None or not 0 <= decimals <= 36:
            raise LiquidityFormatError(f"no usable decimals for {token}")
        return int(10 ** (36 - decimals))

    def weighted(ident: str, entry: Json) -> Pool:
        # The legacy format does not say which WeightedPool factory version a pool comes
        # from; the original pow (no exact 1/2/4 exponents) never overstates the output.
        return _weighted(
            ident,
            [
                (t, _uint(r["balance"]), decimal_fraction(r["weight"]), decimals_factor(t))
                for t, r in entry["reserves"].items()
            ],
            entry["fee"],
            False,
            gas(entry),
        )

    def stable(ident: str, entry: Json) -> Pool:
        # ``scaling_rates`` are 10**36 over Balancer's 18-decimal scaling factor (10**decimals
        # for a plain token, divided by the rate provider's rate for a rate token). The rate
        # was rounded when the file was written, so the factor is its nearest integer.
        rates = {token_address(t): _uint(r) for t, r in entry["scaling_rates"].items()}
        return _stable(
            ident,
            [
                (t, _uint(b), _nearest(10**36, rates[token_address(t)]))
                for t, b in entry["reserves"].items()
            ],
            str(entry["amplification_parameter"]),
            entry["fee"],
            gas(entry),
            entry.get("address"),
        )

    builders: dict[str, Callable[[str, Json], Pool]] = {
        "ConstantProduct": constant_product,
        "Concentrated": concentrated,
        "WeightedProduct": weighted,
        "Stable": stable,
    }
    entries = [(str(ident), str(amm["kind"]), amm) for ident, amm in doc["amms"].items()]
    pools, skipped = _collect(entries, builders)
    return Snapshot(
        pools=pools,
        tokens=MappingProxyType(tokens),
        gas_price=round(gas_price),
        native_token=None if native is None else token_address(native),
        skipped=skipped,
    )


# -- current solver-engine format ------------------------------------------------------------


def _solver(doc: Json) -> Snapshot:
    gas_price = _uint(doc["effectiveGasPrice"])
    tokens = {
        token_address(addr): TokenInfo(
            address=token_address(addr),
            decimals=info.get("decimals"),
            symbol=info.get("symbol"),
            reference_price=(
                None if info.get("referencePrice") is None else _uint(info["referencePrice"])
            ),
        )
        for addr, info in doc["tokens"].items()
    }

    def constant_product(ident: str, entry: Json) -> Pool:
        pair, reserves = _pair({t: _uint(r["balance"]) for t, r in entry["tokens"].items()})
        num, den = _fee_pair(decimal_fraction(entry["fee"]))
        return ConstantProductPool(
            id=PoolId(ident),
            tokens=pair,
            reserves=reserves,
            fee_num=num,
            fee_den=den,
            gas=_uint(entry["gasEstimate"]),
        )

    def concentrated(ident: str, entry: Json) -> Pool:
        return _concentrated(
            ident,
            entry["tokens"],
            entry["sqrtPrice"],
            entry["liquidity"],
            entry["tick"],
            entry["liquidityNet"],
            entry["fee"],
            _uint(entry["gasEstimate"]),
        )

    def weighted(ident: str, entry: Json) -> Pool:
        version = entry.get("version", "v0")
        if version not in ("v0", "v3Plus"):
            raise LiquidityFormatError(f"unknown weighted pool version {version!r}")
        return _weighted(
            ident,
            [
                (
                    t,
                    _uint(r["balance"]),
                    decimal_fraction(r["weight"]),
                    _scaled(decimal_fraction(r["scalingFactor"]), _WAD, "scaling factor"),
                )
                for t, r in entry["tokens"].items()
            ],
            entry["fee"],
            version == "v3Plus",
            _uint(entry["gasEstimate"]),
        )

    def stable(ident: str, entry: Json) -> Pool:
        return _stable(
            ident,
            [
                (
                    t,
                    _uint(r["balance"]),
                    _scaled(decimal_fraction(r["scalingFactor"]), _WAD, "scaling factor"),
                )
                for t, r in entry["tokens"].items()
            ],
            str(entry["amplificationParameter"]),
            entry["fee"],
            _uint(entry["gasEstimate"]),
            entry.get("address"),
        )

    def limit_order(ident: str, entry: Json) -> Pool:
        if _uint(entry["takerTokenFeeAmount"]) != 0:
            raise LiquidityFormatError("limit orders with a taker token fee are not modelled")
        return LimitOrderPool(
            id=PoolId(ident),
            tokens=(token_address(entry["takerToken"]), token_address(entry["makerToken"])),
            taker_amount=_uint(entry["takerAmount"]),
            maker_amount=_uint(entry["makerAmount"]),
            gas=_uint(entry["gasEstimate"]),
        )

    builders: dict[str, Callable[[str, Json], Pool]] = {
        "constantProduct": constant_product,
        "concentratedLiquidity": concentrated,
        "weightedProduct": weighted,
        "stable": stable,
        "limitOrder": limit_order,
    }
    entries = [(str(e["id"]), str(e["kind"]), e) for e in doc["liquidity"]]
    pools, skipped = _collect(entries, builders)
    return Snapshot(
        pools=pools,
        tokens=MappingProxyType(tokens),
        gas_price=gas_price,
        native_token=None,
        skipped=skipped,
    )
