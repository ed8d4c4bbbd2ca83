"""The auctioneer's auction of a round, built straight from the order book: the domain
``Auction`` the in-process engines solve, the book's orders it was built from (what the
settlement of a winner needs: ``solver.solution_settlement``), and the liquidity as the
liquidity source gave it (the wire form external solvers receive, ``wire``).

The gas price comes from a ``GasPriceSource`` (``RpcGasPrice`` on a node,
``FixedGasPrice`` in tests); reference prices from the liquidity (``native_prices``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any, Protocol

from intents.errors import OrderError
from intents.hooks import NO_HOOKS, Hook, Hooks, hooks_of
from intents.order import OrderClass, OrderKind, StoredOrder
from intents.types import Address, OrderUid
from routing.pool import TokenAddress, token_address
from settlement.hooks import hooks_gas, hooks_interaction
from solver import dto
from solver.dto_convert import auction_to_dto
from solver.dto_pools import pools_from_dto
from solver.fee_policies import FeeConfig, order_policies
from solver.liquidity_source import native_prices
from solver.model import Auction, Interaction, Order, Quote, Token

logger = logging.getLogger(__name__)


class GasPriceSource(Protocol):
    async def gas_price(self) -> int:
        """The current gas price, wei per gas unit."""
        ...


class _Rpc(Protocol):
    async def call(self, method: str, params: list[Any]) -> Any: ...


@dataclass(frozen=True, slots=True)
class RpcGasPrice:
    """The node's ``eth_gasPrice``."""

    rpc: _Rpc

    async def gas_price(self) -> int:
        return int(await self.rpc.call("eth_gasPrice", []), 16)


@dataclass(frozen=True, slots=True)
class FixedGasPrice:
    """Always ``wei`` (tests, offline runs)."""

    wei: int

    async def gas_price(self) -> int:
        return self.wei


def remaining_amount(stored: StoredOrder, available: int | None = None) -> int:
    """What is left to fill in the unit of the order's kind (sell token of a sell order,
    buy token of a buy order); a partially fillable order is also cut to what its owner
    can pay, ``available`` of the sell token (rounded down)."""
    o = stored.order
    if o.kind is OrderKind.SELL:
        sell = max(o.sell_amount - stored.executed_sell_amount, 0)
        if available is not None and o.partially_fillable:
            sell = min(sell, available)
        return sell
    buy = max(o.buy_amount - stored.executed_buy_amount, 0)
    if available is not None and o.partially_fillable:
        buy = min(buy, available * o.buy_amount // o.sell_amount)
    return buy


def order_hooks(stored: StoredOrder) -> Hooks:
    """The hooks a settlement filling ``stored`` now runs: its post-hooks, and its
    pre-hooks only while nothing of it is filled (CoW runs them on the first fill only)."""
    try:
        hooks = hooks_of(stored.app_data_json)
    except OrderError as exc:  # accepted before hooks were checked at creation
        logger.warning("order 0x%s: its hooks are not run: %s", stored.uid.hex(), exc)
        return NO_HOOKS
    if stored.executed_sell_amount or stored.executed_buy_amount:
        return Hooks((), hooks.post)
    return hooks


def _interactions(trampoline: Address, hooks: tuple[Hook, ...]) -> tuple[Interaction, ...]:
    if not hooks:
        return ()
    call = hooks_interaction(trampoline, hooks)
    return (Interaction(call.target, call.value, call.call_data),)


def order_from_book(
    stored: StoredOrder,
    available: int | None = None,
    trampoline: Address | None = None,
    fees: FeeConfig | None = None,
    quote: Quote | None = None,
) -> Order:
    """The auction order of a book order (see ``remaining_amount``). Its signed fee is not
    carried (the solver-engine format has none: the engines see book orders as external
    solvers see them). With the node's hooks ``trampoline``, its hooks (``order_hooks``) are
    its pre- and post-interactions, as CoW's autopilot sends them. It carries the fee
    policies ``fees`` and its app data's partner fees give it (``solver.fee_policies``: on
    ``limit``-class orders only; ``quote``: its stored quote, for price-improvement
    policies)."""
    o = stored.order
    hooks = order_hooks(stored) if trampoline is not None else NO_HOOKS
    limit_class = stored.order_class is OrderClass.LIMIT
    policies = (
        order_policies(fees, stored.app_data_json, o.sell_amount, quote, limit_class=limit_class)
        if fees is not None
        else ()
    )
    return Order(
        uid=stored.uid,
        owner=stored.owner,
        sell_token=token_address(o.sell_token),
        buy_token=token_address(o.buy_token),
        signed_sell_amount=o.sell_amount,
        signed_buy_amount=o.buy_amount,
        kind=o.kind,
        partially_fillable=o.partially_fillable,
        order_class=stored.order_class,
        remaining=remaining_amount(stored, available),
        valid_to=o.valid_to,
        fee_policies=policies,
        receiver=o.receiver,
        app_data=o.app_data,
        signing_scheme=stored.signing_scheme,
        signature=stored.signature,
        sell_token_source=o.sell_token_balance,
        buy_token_destination=o.buy_token_balance,
        pre_interactions=_interactions(trampoline, hooks.pre) if trampoline else (),
        post_interactions=_interactions(trampoline, hooks.post) if trampoline else (),
        hooks_gas=hooks_gas(hooks.pre) + hooks_gas(hooks.post),
    )


@dataclass(frozen=True, slots=True)
class BookAuction:
    """One round's auction and what it was built from."""

    auction: Auction
    stored: Mapping[OrderUid, StoredOrder]
    """The book's orders of the auction, by UID."""
    liquidity: tuple[dto.Liquidity, ...]
    """The liquidity as the source gave it."""

    def wire(self) -> dto.Auction:
        """The ``/solve`` body external solvers receive."""
        return auction_to_dto(self.auction, self.liquidity)


def book_auction(
    auction_id: str,
    orders: Iterable[tuple[StoredOrder, int]],
    liquidity: Sequence[dto.Liquidity],
    *,
    weth: TokenAddress,
    gas_price: int,
    deadline: datetime,
    trampoline: Address | None = None,
    fees: FeeConfig | None = None,
    quotes: Mapping[OrderUid, Quote] | None = None,
) -> BookAuction:
    """The auction of ``orders`` (each with what its owner can pay) over ``liquidity``:
    every token of an order or a pool, priced from the pools (``native_prices``); the
    orders' hooks run through ``trampoline`` (none without one), and they carry the fee
    policies of ``fees`` (``order_from_book``, with their ``quotes``)."""
    orders = list(orders)
    prices = native_prices(liquidity, weth)
    addresses: set[str] = set()
    for stored, _ in orders:
        addresses |= {stored.order.sell_token, stored.order.buy_token}
    for pool in liquidity:
        if not isinstance(pool, dto.ForeignLimitOrder):
            addresses |= set(pool.tokens)
    tokens = {
        token_address(t): Token(
            address=token_address(t),
            decimals=None,
            symbol=None,
            reference_price=prices.get(t),
            # the node trusts no token with its buffers: no leg is internalized, and the
            # checks reject an external solver's internalized leg (NonBufferableTokensUsed)
            available_balance=0,
            trusted=False,
        )
        for t in sorted(addresses)
    }
    auction = Auction(
        id=auction_id,
        orders=tuple(
            order_from_book(s, available, trampoline, fees, (quotes or {}).get(s.uid))
            for s, available in orders
        ),
        tokens=MappingProxyType(tokens),
        liquidity=pools_from_dto(liquidity),
        gas_price=gas_price,
        deadline=deadline,
    )
    return BookAuction(auction, {s.uid: s for s, _ in orders}, tuple(liquidity))
