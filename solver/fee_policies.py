"""Which fee policies an order of the node's auctions carries (CoW's autopilot,
``crates/autopilot/src/domain/fee``): the protocol policies configured on the node, in the
order given, then the partner fees of the order's app data (CIP-61), in the order listed.

Protocol policies (``--fee-policy``, repeatable) are written ``surplus:FACTOR:MAX_VOLUME``,
``priceImprovement:FACTOR:MAX_VOLUME`` or ``volume:FACTOR``; factors are fractions in
``[0, 1)`` as CoW's ``FeeFactor``. A price-improvement policy measures against the order's
stored quote (``order_quotes``: the quoted sell and buy amounts and fee); an order without
one against a quote of its own sell amount for nothing (CoW's fallback), that is against
its limit price. As CoW's ``policy.rs``, the policies apply to ``limit``-class orders (a
signed fee of 0, every order cow-sdk signs today), not to ``market`` ones, partner fees
neither: CoW's driver refuses any protocol fee on an order with a signed fee
(``ProtocolFeeOnStaticOrder``), as our checks refuse a fee on a ``market`` order. CoW's
further ``order-class`` filter (a policy for in-market or out-of-market orders only, judged
against the quote) is not offered: every policy is ``any``.

Partner fees (``metadata.partnerFee``: one object or a list) follow CoW's app-data schema:
``{"volumeBps" | "bps", "recipient"}``, ``{"surplusBps", "maxVolumeBps", "recipient"}`` or
``{"priceImprovementBps", "maxVolumeBps", "recipient"}``. Their volume parts are capped
together at ``max_partner_fee`` (default 0.01, CoW's default and CIP-61's 100 bps): each
volume factor is at most what compounding the ones before it leaves,
``(1 + cap) / (1 + accumulated) - 1``; a surplus or improvement share is at most 9999 bps.
A document whose partner fee is malformed charges no partner fee (CoW's handling).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Context, Decimal
from typing import Any

import msgspec

from intents.order import StoredOrder
from intents.quotes import QuoteStore
from intents.types import Address, OrderUid
from solver.model import FeePolicy, PriceImprovementFee, Quote, SurplusFee, VolumeFee

DEFAULT_MAX_PARTNER_FEE = 0.01
"""CoW's ``default_max_partner_fee`` (CIP-61: at most 100 bps of the volume)."""
_MAX_BPS = 10_000
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_DECIMAL = Context(prec=28)  # rust_decimal's precision, which CoW computes the cap in


def _factor(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a number") from None
    if not 0 <= value < 1:
        raise ValueError(f"{what} {text} is outside [0, 1)")
    return value


def parse_policy(text: str) -> FeePolicy:
    """``surplus:0.5:0.01``, ``priceImprovement:0.5:0.01`` or ``volume:0.001``."""
    kind, *args = text.split(":")
    if kind == "volume" and len(args) == 1:
        return VolumeFee(_factor(args[0], "volume factor"))
    if kind in ("surplus", "priceImprovement") and len(args) == 2:
        factor = _factor(args[0], f"{kind} factor")
        cap = _factor(args[1], f"{kind} max volume factor")
        if kind == "surplus":
            return SurplusFee(factor, cap)
        return PriceImprovementFee(factor, cap, Quote(0, 0, 0))
    raise ValueError(
        f"fee policy {text!r} is not surplus:FACTOR:MAX_VOLUME, priceImprovement:FACTOR:"
        "MAX_VOLUME or volume:FACTOR"
    )


@dataclass(frozen=True, slots=True)
class FeeConfig:
    """The node's fee configuration: protocol ``policies`` (applied in this order), owed
    to ``recipient``; partner fees capped at ``max_partner_fee`` of the volume."""

    policies: tuple[FeePolicy, ...] = ()
    recipient: Address | None = None
    max_partner_fee: float = DEFAULT_MAX_PARTNER_FEE
    sweep_every: int = 0
    """Pay out what is owed every this many rounds (``solver.fee_sweep``); 0: never."""

    def __post_init__(self) -> None:
        if self.policies and self.recipient is None:
            raise ValueError("protocol fee policies need a fee recipient (--fee-recipient)")
        if self.sweep_every < 0:
            raise ValueError("the fee sweep interval must be >= 0 rounds")
        if not 0 <= self.max_partner_fee < 1:
            raise ValueError(f"the partner fee cap {self.max_partner_fee} is outside [0, 1)")

    @classmethod
    def parse(
        cls,
        policies: Sequence[str],
        recipient: str | None,
        max_partner_fee: float,
        sweep_every: int = 0,
    ) -> FeeConfig:
        return cls(
            tuple(parse_policy(p) for p in policies),
            Address(recipient.lower()) if recipient else None,
            max_partner_fee,
            sweep_every,
        )


class _PartnerFee(msgspec.Struct, frozen=True, rename="camel"):
    recipient: str
    bps: int | None = None
    volume_bps: int | None = None
    surplus_bps: int | None = None
    price_improvement_bps: int | None = None
    max_volume_bps: int | None = None


_partner_decoder = msgspec.json.Decoder(Any)


def _partner_entries(document: str) -> list[_PartnerFee]:
    try:
        raw = _partner_decoder.decode(document)
        fee = raw.get("metadata", {}).get("partnerFee") if isinstance(raw, dict) else None
        if fee is None:
            return []
        entries = fee if isinstance(fee, list) else [fee]
        return [msgspec.convert(e, _PartnerFee) for e in entries]
    except (msgspec.DecodeError, msgspec.ValidationError, AttributeError):
        return []


def _bps_factor(bps: int) -> float:
    return min(bps, _MAX_BPS - 1) / _MAX_BPS


def partner_policies(document: str | None, cap: float, quote: Quote) -> tuple[FeePolicy, ...]:
    """The partner fee policies of an app-data document, capped (CoW's
    ``get_partner_fee``)."""
    if document is None:
        return ()
    limit = Decimal(repr(cap))
    accumulated = Decimal(0)

    def capped(bps: int) -> float:
        nonlocal accumulated
        value = _DECIMAL.divide(Decimal(bps), Decimal(_MAX_BPS))
        remaining = _DECIMAL.divide(1 + limit, 1 + accumulated) - 1
        accumulated += min(value, limit - accumulated)
        return float(max(value, Decimal(0)).min(remaining))

    policies: list[FeePolicy] = []
    for entry in _partner_entries(document):
        recipient = Address(entry.recipient.lower())
        kinds = (entry.bps, entry.volume_bps, entry.surplus_bps, entry.price_improvement_bps)
        if sum(k is not None for k in kinds) != 1 or any(k is not None and k < 0 for k in kinds):
            return ()  # CoW: "unknown fee policy format", the document's fees are dropped
        volume = entry.volume_bps if entry.volume_bps is not None else entry.bps
        if volume is not None and entry.max_volume_bps is None:
            policies.append(VolumeFee(capped(volume), recipient))
        elif entry.surplus_bps is not None and entry.max_volume_bps is not None:
            cap_factor = capped(entry.max_volume_bps)
            policies.append(SurplusFee(_bps_factor(entry.surplus_bps), cap_factor, recipient))
        elif entry.price_improvement_bps is not None and entry.max_volume_bps is not None:
            cap_factor = capped(entry.max_volume_bps)
            factor = _bps_factor(entry.price_improvement_bps)
            policies.append(PriceImprovementFee(factor, cap_factor, quote, recipient))
        else:
            return ()
    return tuple(policies)


def order_policies(
    config: FeeConfig,
    app_data: str | None,
    sell_amount: int,
    quote: Quote | None = None,
    *,
    limit_class: bool = True,
) -> tuple[FeePolicy, ...]:
    """An order's policies (``limit_class`` orders only): the node's, then its partner
    fees. ``quote``: the order's quote for price-improvement policies (``None``: CoW's
    fallback, a quote of the order's ``sell_amount`` for nothing)."""
    if not limit_class:
        return ()
    reference = quote or Quote(sell_amount, 0, 0)
    protocol = tuple(
        replace(p, quote=reference, recipient=config.recipient)
        if isinstance(p, PriceImprovementFee)
        else replace(p, recipient=config.recipient)
        for p in config.policies
    )
    return protocol + partner_policies(app_data, config.max_partner_fee, reference)


async def order_quotes(
    book: QuoteStore, orders: Iterable[StoredOrder], fees: FeeConfig | None
) -> dict[OrderUid, Quote]:
    """The stored quotes of ``orders`` (those linked to one) when a price-improvement
    policy of ``fees`` needs them (CoW's autopilot reads the order's quote likewise)."""
    if fees is None or not any(isinstance(p, PriceImprovementFee) for p in fees.policies):
        return {}
    found = {}
    for stored in orders:
        if stored.quote_id is None:
            continue
        quote = await book.get_quote(stored.quote_id)
        if quote is not None:
            found[stored.uid] = Quote(
                quote.quoted_sell_amount, quote.quoted_buy_amount, quote.fee_amount
            )
    return found


def add_fee_flags(parser: argparse.ArgumentParser) -> None:
    """``tributary serve``'s fee flags."""
    parser.add_argument(
        "--fee-policy", action="append", default=[], metavar="POLICY", type=_policy_flag,
        help="a protocol fee policy, applied in the order given: surplus:FACTOR:MAX_VOLUME, "
        "priceImprovement:FACTOR:MAX_VOLUME or volume:FACTOR (e.g. surplus:0.5:0.01); "
        "repeatable; partner fees of appData apply after them",
    )  # fmt: skip
    parser.add_argument(
        "--fee-recipient", default=None, metavar="ADDRESS", type=_address_flag,
        help="whom the protocol fees are owed and paid out to (needed with --fee-policy)",
    )  # fmt: skip
    parser.add_argument(
        "--max-partner-fee", type=float, default=DEFAULT_MAX_PARTNER_FEE, metavar="FACTOR",
        help="cap of the partner fees' volume parts together (default 0.01: CIP-61's 100 bps)",
    )  # fmt: skip
    parser.add_argument(
        "--fee-sweep-every", type=int, default=0, metavar="ROUNDS",
        help="pay the fees owed out of the settlement contract every N rounds (0: never)",
    )  # fmt: skip


def _policy_flag(text: str) -> str:
    try:
        parse_policy(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _address_flag(text: str) -> str:
    if not _ADDRESS.fullmatch(text):
        raise argparse.ArgumentTypeError(f"not a 0x-prefixed 20-byte address: {text!r}")
    return text.lower()


def fee_config_from_args(args: argparse.Namespace) -> FeeConfig:
    """The fee flags' configuration; a usage error (exit 2) for policies without a
    recipient, a cap outside [0, 1) or a negative sweep interval."""
    try:
        return _config_from_args(args)
    except ValueError as exc:
        raise SystemExit(f"tributary serve: error: {exc}") from None


def _config_from_args(args: argparse.Namespace) -> FeeConfig:
    return FeeConfig.parse(
        getattr(args, "fee_policy", None) or (),
        getattr(args, "fee_recipient", None),
        getattr(args, "max_partner_fee", DEFAULT_MAX_PARTNER_FEE),
        getattr(args, "fee_sweep_every", 0),
    )
