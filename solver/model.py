"""The solver's exact internal models: the auction the engines solve and the solutions they
return, with conversions from the solver-engine DTOs and the legacy instance file, and of a
solution back to its DTO.

Amounts are ``int`` base units, addresses lowercase hex, UIDs ``bytes``. Liquidity is the
routing package's ``Snapshot``, always built by ``routing.liquidity.parse_snapshot`` (one
parser for both file formats). GPv2 semantics (``GPv2Settlement.computeTradeExecution``):

* a sell order trades ``executed`` of its sell token (fee excluded) and receives
  ``ceil(executed * price[sell] / price[buy])`` of its buy token;
* a buy order receives ``executed`` of its buy token and pays
  ``floor(executed * price[buy] / price[sell])`` of its sell token (fee excluded);
* a ``limit``-class order additionally pays ``fee`` in its sell token, chosen by the solver;
  its limit price must hold for what it pays in total.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from types import MappingProxyType
from typing import Any

from intents.order import OrderClass, OrderKind
from intents.types import Address, OrderUid
from routing.balancer_weighted import WeightedPool
from routing.liquidity import (
    LiquidityFormatError,
    Snapshot,
    decimal_fraction,
    parse_snapshot,
    token_address,
)
from routing.pool import Pool, TokenAddress
from routing.route import Leg
from routing.stable import AMP_PRECISION, StablePool
from routing.uniswap_v2 import ConstantProductPool
from routing.uniswap_v3 import ConcentratedLiquidityPool
from solver import dto
from solver.errors import SolverError

logger = logging.getLogger(__name__)

SETTLEMENT_OVERHEAD_GAS = 106_391
"""Gas of a settlement with one trade beyond its interactions (CoW's ``SETTLEMENT_OVERHEAD``:
``isSolver`` 7365 + trade execution 44000 + two ERC-20 transfers 2 x 27513)."""


class AuctionFormatError(SolverError, ValueError):
    """The document is not an auction this module can read."""

    code = "InvalidAuction"


@dataclass(frozen=True, slots=True)
class Token:
    address: TokenAddress
    decimals: int | None
    symbol: str | None
    reference_price: int | None
    """Native wei for ``10**18`` base units (CoW's ``referencePrice``)."""
    available_balance: int
    trusted: bool


@dataclass(frozen=True, slots=True)
class Order:
    """An auction order: the signed limit amounts, and what is left to fill.

    ``remaining`` is in the sell token for sell orders and in the buy token for buy orders
    (the unit of a trade's executed amount). ``fee_amount`` is the signed fee (0 for every
    order of the current protocol)."""

    uid: OrderUid
    owner: Address
    sell_token: TokenAddress
    buy_token: TokenAddress
    sell_amount: int
    buy_amount: int
    kind: OrderKind
    partially_fillable: bool
    order_class: OrderClass
    remaining: int
    fee_amount: int = 0
    source: dto.Order | None = field(default=None, compare=False, repr=False)
    """The DTO this order came from, when it came over the wire (kept for re-encoding)."""

    @property
    def full(self) -> int:
        """The signed amount in the unit of ``remaining``."""
        return self.sell_amount if self.kind is OrderKind.SELL else self.buy_amount


@dataclass(frozen=True, slots=True)
class Auction:
    id: str | None
    orders: tuple[Order, ...]
    tokens: Mapping[TokenAddress, Token]
    liquidity: Snapshot
    gas_price: int
    """Effective gas price, wei per gas unit."""
    deadline: datetime
    surplus_capturing_jit_order_owners: tuple[Address, ...] = ()

    def reference_price(self, token: TokenAddress) -> int | None:
        info = self.tokens.get(token)
        return info.reference_price if info else None

    def with_deadline(self, deadline: datetime) -> Auction:
        return dataclasses.replace(self, deadline=deadline)


@dataclass(frozen=True, slots=True)
class Trade:
    """A fill of an auction order: ``executed`` in the unit of ``Order.remaining`` (fee
    excluded) and ``fee`` in the sell token (solver-chosen, ``limit`` orders only)."""

    order: OrderUid
    executed: int
    fee: int = 0


@dataclass(frozen=True, slots=True)
class Solution:
    """Uniform clearing prices, trades and the AMM legs that balance them."""

    id: int
    prices: Mapping[TokenAddress, int]
    trades: tuple[Trade, ...]
    legs: tuple[Leg, ...]
    gas: int
    engine: str = ""


def signed_fee(order: Order, trade: Trade) -> int:
    """The signed fee's share the contract charges for ``trade`` (pro rata, rounded down)."""
    return order.fee_amount * trade.executed // order.full if order.fee_amount else 0


def trade_execution(
    is_sell: bool, executed: int, sell_price: int, buy_price: int
) -> tuple[int, int]:
    """(sell token paid, fees excluded; buy token received) for ``executed`` in the order's
    unit, as ``GPv2Settlement.computeTradeExecution`` rounds (in the user's favour)."""
    if is_sell:
        return executed, -(-executed * sell_price // buy_price)
    return executed * buy_price // sell_price, executed


def executed_amounts(
    order: Order, trade: Trade, prices: Mapping[TokenAddress, int]
) -> tuple[int, int]:
    """(sell token paid including all fees, buy token received) by ``order`` for ``trade``
    at ``prices``, rounded as ``GPv2Settlement`` rounds (``trade_execution``)."""
    sold, bought = trade_execution(
        order.kind is OrderKind.SELL,
        trade.executed,
        prices[order.sell_token],
        prices[order.buy_token],
    )
    return sold + trade.fee + signed_fee(order, trade), bought


def limit_respected(order: Order, sold: int, bought: int) -> bool:
    """The order's limit price holds for paying ``sold`` for ``bought``. ``sold`` includes
    the solver fee; the signed fee is outside the limit price, as in ``GPv2Settlement``
    (subtract ``signed_fee`` from ``executed_amounts``' first value)."""
    return sold * order.buy_amount <= bought * order.sell_amount


def gas_fee(gas: int, gas_price: int, sell_price: int | None) -> int | None:
    """``gas`` at ``gas_price`` in base units of a token with reference price ``sell_price``,
    rounded down (the user's favour); ``None`` without a price."""
    if not sell_price:
        return None
    return gas * gas_price * 10**18 // sell_price


# -- DTO -> Auction --------------------------------------------------------------------------


def _uid(text: str) -> OrderUid:
    return OrderUid(bytes.fromhex(text[2:]))


def auction_from_dto(auction: dto.Auction) -> Auction:
    """The internal auction of a decoded ``/solve`` body."""
    tokens = {
        token_address(addr): Token(
            address=token_address(addr),
            decimals=info.decimals,
            symbol=info.symbol,
            reference_price=None if info.reference_price is None else int(info.reference_price),
            available_balance=int(info.available_balance),
            trusted=info.trusted,
        )
        for addr, info in auction.tokens.items()
    }
    orders = tuple(_order_from_dto(order) for order in auction.orders)
    return Auction(
        id=None if auction.id is None else str(auction.id),
        orders=orders,
        tokens=MappingProxyType(tokens),
        liquidity=parse_snapshot(dto.to_builtins(auction)),
        gas_price=int(auction.effective_gas_price),
        deadline=auction.deadline,
        surplus_capturing_jit_order_owners=tuple(
            Address(a.lower()) for a in auction.surplus_capturing_jit_order_owners
        ),
    )


def _order_from_dto(order: dto.Order) -> Order:
    kind = OrderKind(order.kind)
    return Order(
        uid=_uid(order.uid),
        owner=Address(order.owner.lower()),
        sell_token=token_address(order.sell_token),
        buy_token=token_address(order.buy_token),
        sell_amount=int(order.full_sell_amount),
        buy_amount=int(order.full_buy_amount),
        kind=kind,
        partially_fillable=order.partially_fillable,
        order_class=OrderClass(order.class_),
        remaining=int(order.sell_amount if kind is OrderKind.SELL else order.buy_amount),
        source=order,
    )


# -- legacy file -> Auction ------------------------------------------------------------------


def auction_from_legacy(doc: Mapping[str, Any], deadline: datetime) -> Auction:
    """The internal auction of a legacy instance file (``tokens``/``orders``/``amms``/
    ``metadata``). Orders with a signed fee are ``market`` orders, the others ``limit``."""
    try:
        snapshot = parse_snapshot(doc)
        metadata = doc.get("metadata") or {}
        tokens = {
            address: Token(
                address=address,
                decimals=info.decimals,
                symbol=info.symbol,
                reference_price=info.reference_price,
                available_balance=int(doc["tokens"][address].get("internal_buffer") or 0),
                trusted=bool(doc["tokens"][address].get("accepted_for_internalization")),
            )
            for address, info in snapshot.tokens.items()
        }
        orders = tuple(_legacy_order(entry) for entry in doc["orders"].values())
    except (KeyError, TypeError, ValueError) as exc:
        raise AuctionFormatError(f"not a legacy auction: {type(exc).__name__}: {exc}") from exc
    auction_id = metadata.get("auction_id")
    return Auction(
        id=None if auction_id is None else str(auction_id),
        orders=orders,
        tokens=MappingProxyType(tokens),
        liquidity=snapshot,
        gas_price=snapshot.gas_price,
        deadline=deadline,
    )


def _legacy_order(entry: Mapping[str, Any]) -> Order:
    uid = _uid(entry["id"])
    if len(uid) != 56:
        raise AuctionFormatError(f"order id {entry['id']!r} is not a 56-byte UID")
    kind = OrderKind.SELL if entry["is_sell_order"] else OrderKind.BUY
    sell_amount, buy_amount = int(entry["sell_amount"]), int(entry["buy_amount"])
    fee = int(decimal_fraction((entry.get("fee") or {}).get("amount", "0")))
    return Order(
        uid=uid,
        owner=Address("0x" + uid[32:52].hex()),
        sell_token=token_address(entry["sell_token"]),
        buy_token=token_address(entry["buy_token"]),
        sell_amount=sell_amount,
        buy_amount=buy_amount,
        kind=kind,
        partially_fillable=bool(entry["allow_partial_fill"]),
        order_class=OrderClass.MARKET if fee else OrderClass.LIMIT,
        remaining=sell_amount if kind is OrderKind.SELL else buy_amount,
        fee_amount=fee,
    )


def load_auction(raw: bytes, deadline: datetime) -> Auction:
    """An auction from a JSON document of either format; ``deadline`` is used when the
    document has none (the legacy format)."""
    doc = json.loads(raw)
    if isinstance(doc, dict) and "amms" in doc:
        return auction_from_legacy(doc, deadline)
    return auction_from_dto(dto.decode_auction(raw))


def now() -> datetime:
    return datetime.now(UTC)


# -- Solution -> DTO -------------------------------------------------------------------------


def solution_to_dto(solution: Solution, orders: Mapping[OrderUid, Order]) -> dto.Solution:
    """The wire form of ``solution``; ``orders`` tells which trades carry a solver fee
    (``limit`` class: always, even 0; ``market``: never)."""
    trades: list[dto.Trade] = []
    for trade in solution.trades:
        order = orders[trade.order]
        fee = dto.U256(trade.fee) if order.order_class is OrderClass.LIMIT else None
        trades.append(
            dto.Fulfillment(
                order="0x" + trade.order.hex(), executed_amount=dto.U256(trade.executed), fee=fee
            )
        )
    return dto.Solution(
        id=solution.id,
        prices={token: dto.U256(price) for token, price in solution.prices.items()},
        trades=trades,
        interactions=[
            dto.LiquidityInteraction(
                internalize=False,
                id=leg.pool,
                input_token=leg.token_in,
                output_token=leg.token_out,
                input_amount=dto.U256(leg.amount_in),
                output_amount=dto.U256(leg.amount_out),
            )
            for leg in solution.legs
        ],
        gas=solution.gas,
    )


# -- Auction -> DTO --------------------------------------------------------------------------

ZERO_ADDRESS = "0x" + "00" * 20
_NO_POOL_ID = "0x" + "00" * 32


def decimal_string(value: Fraction) -> str:
    """The exact decimal form of ``value`` (its denominator must divide a power of ten)."""
    digits = 0
    while (value * 10**digits).denominator != 1:
        digits += 1
        if digits > 80:
            raise ValueError(f"{value} has no finite decimal form")
    scaled = abs(value * 10**digits).numerator
    sign = "-" if value < 0 else ""
    if not digits:
        return f"{sign}{scaled}"
    text = str(scaled).rjust(digits + 1, "0")
    return f"{sign}{text[:-digits]}.{text[-digits:]}"


def pool_to_dto(pool: Pool) -> dto.Liquidity:
    """The wire form of a routing pool (the pool id is its address when it is one; routers
    and Balancer pool ids the routing model does not keep are zero)."""
    ident = str(pool.id)
    address = ident if _is_address(ident) else ZERO_ADDRESS
    gas = dto.U256(pool.gas)
    if isinstance(pool, ConstantProductPool):
        return dto.ConstantProductPool(
            id=ident,
            address=address,
            router=ZERO_ADDRESS,
            gas_estimate=gas,
            tokens={
                t: dto.ConstantProductReserve(balance=dto.U256(r))
                for t, r in zip(pool.tokens, pool.reserves, strict=True)
            },
            fee=decimal_string(Fraction(pool.fee_num, pool.fee_den)),
        )
    if isinstance(pool, ConcentratedLiquidityPool):
        return dto.ConcentratedLiquidityPool(
            id=ident,
            address=address,
            router=ZERO_ADDRESS,
            gas_estimate=gas,
            tokens=list(pool.tokens),
            sqrt_price=dto.U256(pool.sqrt_price_x96),
            liquidity=str(pool.liquidity),
            tick=pool.tick,
            liquidity_net={str(t): str(n) for t, n in sorted(pool.liquidity_net.items())},
            fee=decimal_string(Fraction(pool.fee_pips, 10**6)),
        )
    if isinstance(pool, WeightedPool):
        return dto.WeightedProductPool(
            id=ident,
            address=address,
            balancer_pool_id=_NO_POOL_ID,
            gas_estimate=gas,
            tokens={
                r.address: dto.WeightedProductReserve(
                    balance=dto.U256(r.balance),
                    scaling_factor=decimal_string(Fraction(r.scaling_factor, 10**18)),
                    weight=decimal_string(Fraction(r.weight, 10**18)),
                )
                for r in pool.reserves
            },
            fee=decimal_string(Fraction(pool.fee, 10**18)),
            version="v3Plus" if pool.pow_shortcuts else "v0",
        )
    if isinstance(pool, StablePool):
        return dto.StablePool(
            id=ident,
            address=address,
            balancer_pool_id=_NO_POOL_ID,
            gas_estimate=gas,
            tokens={
                r.address: dto.StableReserve(
                    balance=dto.U256(r.balance),
                    scaling_factor=decimal_string(Fraction(r.scaling_factor, 10**18)),
                )
                for r in pool.reserves
            },
            amplification_parameter=decimal_string(Fraction(pool.amp, AMP_PRECISION)),
            fee=decimal_string(Fraction(pool.fee, 10**18)),
        )
    raise TypeError(f"no wire form for pool {pool.id} of type {type(pool).__name__}")


def _is_address(text: str) -> bool:
    try:
        token_address(text)
    except (LiquidityFormatError, ValueError):
        return False
    return True


def order_to_dto(order: Order) -> dto.Order:
    """The wire form of an order: its own DTO when it came over the wire, otherwise built
    from what the model knows (remaining amounts pro rata to the signed ones)."""
    if order.source is not None:
        return order.source
    if order.kind is OrderKind.SELL:
        sell_left = order.remaining
        buy_left = -(-order.buy_amount * order.remaining // max(order.sell_amount, 1))
    else:
        buy_left = order.remaining
        sell_left = order.sell_amount * order.remaining // max(order.buy_amount, 1)
    return dto.Order(
        uid="0x" + order.uid.hex(),
        sell_token=order.sell_token,
        buy_token=order.buy_token,
        sell_amount=dto.U256(sell_left),
        full_sell_amount=dto.U256(order.sell_amount),
        buy_amount=dto.U256(buy_left),
        full_buy_amount=dto.U256(order.buy_amount),
        valid_to=int.from_bytes(order.uid[52:56], "big"),
        kind="sell" if order.kind is OrderKind.SELL else "buy",
        owner=order.owner,
        partially_fillable=order.partially_fillable,
        pre_interactions=[],
        post_interactions=[],
        sell_token_source="erc20",
        buy_token_destination="erc20",
        class_="limit" if order.order_class is OrderClass.LIMIT else "market",
        app_data=_NO_POOL_ID,
        signing_scheme="eip712",
        signature="0x",
    )


def auction_to_dto(auction: Auction) -> dto.Auction:
    """The ``/solve`` body for ``auction`` (what our auctioneer sends external solvers)."""
    return dto.Auction(
        id=auction.id,
        tokens={
            t: dto.Token(
                decimals=info.decimals,
                symbol=info.symbol,
                reference_price=None
                if info.reference_price is None
                else dto.U256(info.reference_price),
                available_balance=dto.U256(info.available_balance),
                trusted=info.trusted,
            )
            for t, info in auction.tokens.items()
        },
        orders=[order_to_dto(o) for o in auction.orders],
        liquidity=[pool_to_dto(p) for p in auction.liquidity.pools],
        effective_gas_price=dto.U256(auction.gas_price),
        deadline=auction.deadline,
        surplus_capturing_jit_order_owners=list(auction.surplus_capturing_jit_order_owners),
    )
