"""Stored quotes, as CoW's orderbook keeps them (``crates/shared/src/order_quoting.rs``).

``POST /api/v1/quote`` stores every quote it answers and returns its ``id`` and
``expiration``; an order names the quote it was made from with ``quoteId``. At creation
every order is linked to a quote (``StoredOrder.quote_id``): the one it names if that one
``matches`` it and has not expired, else a fresh quote of the order's own amounts (CoW's
``get_or_create_quote``). Fee policies that refer to the quote need that link.

Matching is CoW's ``QuoteSearchParameters::matches``: same sell token, buy token and kind,
and for a buy order the same buy amount, for a sell order a sell amount equal to the
quoted one with or without the order's fee. CoW does not compare the owner.

Where CoW refuses a market order it cannot quote, this node places it without a quote
(its market orders sign their fee, which CoW's current orderbook no longer accepts).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

import msgspec

from intents.errors import OrderError
from intents.order import Order, OrderKind
from intents.types import Address, TokenAddress

logger = logging.getLogger(__name__)


class StoredQuote(msgspec.Struct, frozen=True, kw_only=True):
    """One quote, as CoW's ``QuoteData`` keeps it: ``quoted_sell_amount`` and
    ``quoted_buy_amount`` are the amounts priced (the sell amount before the fee for a
    ``sellAmountBeforeFee`` request, the one after it for ``sellAmountAfterFee``, the
    routed sell amount of a buy quote), ``fee_amount`` the fee in the sell token. ``id`` is
    None until stored."""

    id: int | None = None
    owner: Address
    sell_token: TokenAddress
    buy_token: TokenAddress
    kind: OrderKind
    quoted_sell_amount: int
    quoted_buy_amount: int
    fee_amount: int
    verified: bool
    creation_time: float
    expiration: float  # unix seconds


def matches(quote: StoredQuote, order: Order) -> bool:
    """Whether ``order`` may use ``quote`` (CoW's rule, see the module)."""
    if (quote.sell_token, quote.buy_token, quote.kind) != (
        order.sell_token,
        order.buy_token,
        order.kind,
    ):
        return False
    if order.kind is OrderKind.BUY:
        return order.buy_amount == quote.quoted_buy_amount
    return quote.quoted_sell_amount in (order.sell_amount, order.sell_amount + order.fee_amount)


class QuoteStore(Protocol):
    """Where quotes are kept (``intents.book.OrderBook`` provides it)."""

    async def insert_quote(self, quote: StoredQuote) -> int:
        """Store ``quote`` durably; its new id (positive, increasing)."""
        ...

    async def get_quote(self, quote_id: int) -> StoredQuote | None: ...


FreshQuote = Callable[[Order, Address], Awaitable[StoredQuote]]
"""Prices a quote of an order's own amounts (not stored yet); raises ``OrderError`` when it
cannot (``NoLiquidity``, ``UnsupportedToken``, ...)."""


class QuoteLinker:
    """Links a new order to a quote (``link``), as CoW's ``get_or_create_quote`` does."""

    def __init__(
        self, store: QuoteStore, fresh: FreshQuote, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.fresh = fresh
        self.clock = clock

    async def link(self, order: Order, owner: Address, quote_id: int | None) -> int | None:
        """The id of the quote ``order`` is linked to: ``quote_id`` if that quote is stored,
        ``matches`` the order and has not expired; else a fresh quote of the order's amounts,
        stored now. An order that cannot be quoted is placed without a quote (None), as CoW
        places a limit order when there is no liquidity to quote it."""
        if quote_id is not None:
            quote = await self.store.get_quote(quote_id)
            if quote is not None and matches(quote, order) and quote.expiration >= self.clock():
                return quote_id
            logger.debug("quote %d does not fit the order: a fresh quote is made", quote_id)
        try:
            quote = await self.fresh(order, owner)
        except OrderError as exc:
            logger.info("order placed without a quote: %s", exc)
            return None
        return await self.store.insert_quote(quote)
