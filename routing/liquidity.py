"""Immutable liquidity of an auction: the pools routing trades through, and what could not be
modelled; and the one parser of the legacy instance format.

The legacy instance format (``tokens``/``orders``/``amms``/``metadata``, e.g. the
solver-template-py mainnet auction): ``amms`` kinds ``ConstantProduct``, ``Concentrated``,
``WeightedProduct``, ``Stable``; a pool's gas is its kind's fixed cost
(``routing.interaction_gas``), not the entry's ``cost``. (The current solver-engine format
is decoded by the solver's DTOs; both become the same pools through the one builder of
each kind, e.g. ``routing.uniswap_v2.constant_product_pool``.)

Decimal strings (fees, weights, scaling factors) are converted exactly with ``Fraction``,
never through float. Entries this package cannot model (unknown kinds, malformed pools) are
kept in ``skipped`` with a code and a reason instead of failing the whole snapshot (``collect``).
Orders are not parsed here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from types import MappingProxyType
from typing import Any

from routing.balancer_weighted import weighted_pool
from routing.interaction_gas import (
    BALANCER_STABLE_GAS,
    BALANCER_WEIGHTED_GAS,
    UNISWAP_V2_GAS,
    UNISWAP_V3_GAS,
)
from routing.pool import LiquidityFormatError, Pool, PoolMathError, TokenAddress, token_address
from routing.stable import stable_pool
from routing.uniswap_v2 import constant_product_pool
from routing.uniswap_v3 import concentrated_liquidity_pool

logger = logging.getLogger(__name__)

Json = Mapping[str, Any]


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
class Pools:
    """The pools of an auction routing can trade through, and the entries left out."""

    pools: tuple[Pool, ...]
    skipped: tuple[SkippedLiquidity, ...] = ()


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Pools, tokens and gas price of a legacy auction document; never mutated."""

    pools: tuple[Pool, ...]
    tokens: Mapping[TokenAddress, TokenInfo]
    gas_price: int
    """Wei per gas unit."""
    native_token: TokenAddress | None
    skipped: tuple[SkippedLiquidity, ...] = ()

    @property
    def liquidity(self) -> Pools:
        return Pools(self.pools, self.skipped)


def decimal_fraction(value: str | int | float) -> Fraction:
    """An exact fraction from a decimal string (floats only from JSON numbers)."""
    return Fraction(value) if not isinstance(value, float) else Fraction(repr(value))


def collect(entries: Iterable[tuple[str, str, Callable[[], Pool] | None]]) -> Pools:
    """The pools of ``(id, kind, build)`` entries: ``build`` is ``None`` for a kind without
    a model; an entry whose build fails is skipped with the error's code and message, and
    so is an entry whose id an earlier one already has (a solution names the pools it swaps
    by id, so two pools under one id could not be told apart)."""
    pools: list[Pool] = []
    skipped: list[SkippedLiquidity] = []
    seen: set[str] = set()
    for ident, kind, build in entries:
        if ident in seen:
            reason = f"liquidity id {ident!r} is already used by an earlier entry"
            skipped.append(SkippedLiquidity(ident, kind, "DuplicateId", reason))
            continue
        seen.add(ident)
        if build is None:
            skipped.append(SkippedLiquidity(ident, kind, "UnsupportedKind", f"no model for {kind}"))
            continue
        try:
            pools.append(build())
        except (PoolMathError, LiquidityFormatError, KeyError, ValueError, TypeError) as exc:
            code = getattr(exc, "code", "MalformedLiquidity")
            skipped.append(SkippedLiquidity(ident, kind, code, f"{type(exc).__name__}: {exc}"))
    if skipped:
        logger.info("skipped %d of %d liquidity entries", len(skipped), len(pools) + len(skipped))
    return Pools(tuple(pools), tuple(skipped))


# -- legacy instance format ------------------------------------------------------------------


def parse_snapshot(doc: Json) -> Snapshot:
    """The snapshot of a decoded legacy auction document (``amms``); a document of another
    format (the solver-engine format is decoded by the solver's DTOs), or one that is not
    an auction (a missing or mistyped field outside the pools), is a
    ``LiquidityFormatError`` (a malformed pool is skipped, not fatal)."""
    if not isinstance(doc, Mapping):
        raise LiquidityFormatError(f"an auction is a JSON object, not {type(doc).__name__}")
    if "amms" not in doc:
        raise LiquidityFormatError("not a legacy auction: it has no 'amms'")
    try:
        return _legacy(doc)
    except LiquidityFormatError:
        raise
    except KeyError as exc:
        raise LiquidityFormatError(f"auction lacks the field {exc}") from exc
    except (AttributeError, TypeError, ValueError, ArithmeticError) as exc:
        raise LiquidityFormatError(f"malformed auction: {type(exc).__name__}: {exc}") from exc


def _legacy(doc: Json) -> Snapshot:
    metadata = doc.get("metadata") or {}
    gas_price = decimal_fraction(metadata["gas_price"])
    if gas_price <= 0:
        raise LiquidityFormatError(f"gas price {gas_price} is not positive")
    native = metadata.get("native_token")
    tokens = {token_address(addr): _token(addr, info) for addr, info in doc["tokens"].items()}
    legacy = _Legacy(tokens, gas_price)
    liquidity = collect(
        (str(ident), str(amm["kind"]), legacy.builder(str(ident), amm))
        for ident, amm in doc["amms"].items()
    )
    return Snapshot(
        pools=liquidity.pools,
        tokens=MappingProxyType(tokens),
        gas_price=round(gas_price),
        native_token=None if native is None else token_address(native),
        skipped=liquidity.skipped,
    )


def _token(address: str, info: Json) -> TokenInfo:
    return TokenInfo(
        address=token_address(address),
        decimals=None if info.get("decimals") is None else int(info["decimals"]),
        symbol=info.get("alias"),
        reference_price=(
            None
            if info.get("external_price") is None
            else int(decimal_fraction(info["external_price"]) * 10**18)
        ),
    )


def _uint(value: str | int) -> int:
    """A ``HexOrDecimalU256``: ``0x`` hex or decimal digits."""
    text = str(value)
    number = int(text, 16) if text.startswith("0x") else int(text, 10)
    if number < 0:
        raise LiquidityFormatError(f"negative amount {value!r}")
    return number


def _nearest(numerator: int, denominator: int) -> int:
    if denominator <= 0:
        raise LiquidityFormatError(f"non-positive divisor {denominator}")
    return (2 * numerator + denominator) // (2 * denominator)


@dataclass(frozen=True, slots=True)
class _Legacy:
    """The builders of the legacy ``amms`` kinds (what the pools' gas and the weighted
    pools' scaling need: the document's tokens and gas price)."""

    tokens: Mapping[TokenAddress, TokenInfo]
    gas_price: Fraction

    def builder(self, ident: str, entry: Json) -> Callable[[], Pool] | None:
        build = {
            "ConstantProduct": self.constant_product,
            "Concentrated": self.concentrated,
            "WeightedProduct": self.weighted,
            "Stable": self.stable,
        }.get(str(entry["kind"]))
        return None if build is None else lambda: build(ident, entry)

    def constant_product(self, ident: str, entry: Json) -> Pool:
        return constant_product_pool(
            ident,
            [(token_address(t), _uint(r)) for t, r in entry["reserves"].items()],
            decimal_fraction(entry["fee"]),
            UNISWAP_V2_GAS,
        )

    def concentrated(self, ident: str, entry: Json) -> Pool:
        pool, state = entry["pool"], entry["pool"]["state"]
        return concentrated_liquidity_pool(
            ident,
            [token_address(t["id"]) for t in pool["tokens"]],
            _uint(state["sqrt_price"]),
            _uint(state["liquidity"]),
            int(state["tick"]),
            {int(t): int(n) for t, n in state["liquidity_net"].items()},
            decimal_fraction(entry["fee"]),
            UNISWAP_V3_GAS,
        )

    def decimals_factor(self, token: TokenAddress) -> int:
        decimals = self.tokens[token].decimals
        if decimals is None or not 0 <= decimals <= 36:
            raise LiquidityFormatError(f"no usable decimals for {token}")
        return int(10 ** (36 - decimals))

    def weighted(self, ident: str, entry: Json) -> Pool:
        # The legacy format does not say which WeightedPool factory version a pool comes
        # from; the original pow (no exact 1/2/4 exponents) never overstates the output.
        reserves = []
        for t, r in entry["reserves"].items():
            token = token_address(t)
            weight = decimal_fraction(r["weight"])
            reserves.append((token, _uint(r["balance"]), weight, self.decimals_factor(token)))
        return weighted_pool(
            ident, reserves, decimal_fraction(entry["fee"]), False, BALANCER_WEIGHTED_GAS
        )

    def stable(self, ident: str, entry: Json) -> Pool:
        # ``scaling_rates`` are 10**36 over Balancer's 18-decimal scaling factor (10**decimals
        # for a plain token, divided by the rate provider's rate for a rate token). The rate
        # was rounded when the file was written, so the factor is its nearest integer.
        rates = {token_address(t): _uint(r) for t, r in entry["scaling_rates"].items()}
        address = entry.get("address")
        return stable_pool(
            ident,
            [
                (token_address(t), _uint(b), _nearest(10**36, rates[token_address(t)]))
                for t, b in entry["reserves"].items()
            ],
            decimal_fraction(str(entry["amplification_parameter"])),
            decimal_fraction(entry["fee"]),
            BALANCER_STABLE_GAS,
            None if address is None else token_address(address),
        )
