"""``POST /api/v1/quote``: price a prospective order (CoW's ``OrderQuoteRequest`` ->
``OrderQuoteResponse``).

This package does not route: the pricing is an injected async ``Quoter`` (the node gives
one backed by the routing engine, ``solver.quoter``). The handler decodes and checks the
request, asks the quoter for exact amounts, and answers with order parameters a client can
sign as they are: ``sellAmount`` (after the fee), ``buyAmount``, ``feeAmount`` (the gas of
the trade in the sell token), ``validTo``. Every quote is stored (``intents.quotes``) before
it is answered, with CoW's ``id`` and ``expiration``; ``verified`` says whether the quoter
simulated the trade on the chain. ``fresh_quote`` prices the quote an order without one
is linked to. Refusals are ``QuoteError``s with CoW's
``errorType`` names: ``NoLiquidity`` (404), ``UnsupportedToken``,
``SellAmountDoesNotCoverFee``, ``ZeroAmount``, ``SameBuyAndSellToken`` (400).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import msgspec
from aiohttp import web

from intents.appdata import resolve_app_data
from intents.errors import ErrorCode, OrderError
from intents.http.keys import BOOK
from intents.http.problems import error_response
from intents.order import BuyTokenBalance, Order, OrderKind, SellTokenBalance, SigningScheme
from intents.quotes import FreshQuote, StoredQuote
from intents.types import UINT32_MAX, ZERO_ADDRESS, Address, TokenAddress
from intents.wire import U256, HexAddress, Uint32, decode, decoder, encode, to_hex

DEFAULT_VALID_FOR = 30 * 60
"""Seconds an order quoted without ``validTo``/``validFor`` stays valid."""
QUOTE_LIFETIME = 60
"""Seconds the quoted fee is offered for (``expiration``)."""
_NO_APP_DATA = "0x" + "00" * 32


class QuoteError(OrderError):
    """The order cannot be quoted (``NoLiquidity`` is a 404, the others 400); the API's error
    middleware answers it like any other refusal."""


class OrderQuoteRequest(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename="camel", kw_only=True
):
    """CoW's ``OrderQuoteRequest``: the order's tokens and one of its amounts
    (``sellAmountBeforeFee`` or ``sellAmountAfterFee`` with ``kind: sell``,
    ``buyAmountAfterFee`` with ``kind: buy``). ``priceQuality``, ``timeout`` and
    ``onchainOrder`` are accepted for compatibility; every quote is priced the same way."""

    sell_token: HexAddress
    buy_token: HexAddress
    receiver: HexAddress | None = None
    from_: HexAddress = msgspec.field(name="from")
    kind: OrderKind
    sell_amount_before_fee: U256 | None = None
    sell_amount_after_fee: U256 | None = None
    buy_amount_after_fee: U256 | None = None
    valid_to: Uint32 | None = None
    valid_for: Uint32 | None = None
    app_data: str | None = None
    app_data_hash: str | None = None
    partially_fillable: bool = False
    sell_token_balance: SellTokenBalance = SellTokenBalance.ERC20
    buy_token_balance: BuyTokenBalance = BuyTokenBalance.ERC20
    signing_scheme: SigningScheme = SigningScheme.EIP712
    onchain_order: bool = False
    price_quality: Literal["fast", "optimal", "verified"] = "optimal"
    timeout: int | None = None


class QuoteParameters(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename="camel", kw_only=True
):
    """CoW's ``OrderParameters``: the order to sign."""

    sell_token: str
    buy_token: str
    receiver: str | None
    sell_amount: U256
    buy_amount: U256
    valid_to: int
    app_data: str
    fee_amount: U256
    kind: OrderKind
    partially_fillable: bool
    sell_token_balance: SellTokenBalance
    buy_token_balance: BuyTokenBalance
    signing_scheme: SigningScheme


class OrderQuoteResponse(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename="camel", kw_only=True
):
    """CoW's ``OrderQuoteResponse``; ``expiration`` is ISO 8601 UTC; ``id`` names the stored
    quote (an order's ``quoteId``); ``verified`` if the trade was simulated on the chain."""

    quote: QuoteParameters
    from_: str = msgspec.field(name="from")
    expiration: str
    id: int
    verified: bool


QuoteSide = Literal["sellBeforeFee", "sellAfterFee", "buyAfterFee"]


@dataclass(frozen=True, slots=True)
class QuoteQuery:
    """What the quoter prices: ``amount`` is the sell amount including the fee
    (``sellBeforeFee``), the sell amount excluding it (``sellAfterFee``) or the buy amount
    (``buyAfterFee``), in base units."""

    sell_token: TokenAddress
    buy_token: TokenAddress
    side: QuoteSide
    amount: int
    owner: Address = ZERO_ADDRESS
    """Who would trade (the request's ``from``): a quote is verified with its funds."""
    verify: bool = True
    """Whether to simulate the quoted trade (the quote of a new order's link is not)."""


@dataclass(frozen=True, slots=True)
class QuoteResult:
    """Exact amounts of the quoted order: it sells ``sell_amount`` plus ``fee_amount`` of
    the sell token and receives ``buy_amount``; ``verified`` if that trade was simulated
    on the chain."""

    sell_amount: int
    buy_amount: int
    fee_amount: int
    verified: bool = False


Quoter = Callable[[QuoteQuery], Awaitable[QuoteResult]]
"""Prices a query; raises ``QuoteError``."""

QUOTER: web.AppKey[Quoter] = web.AppKey("quoter")
_REQUEST = decoder(OrderQuoteRequest)


def query_of(request: OrderQuoteRequest) -> QuoteQuery:
    """The priced side of the request; ``InvalidField`` unless exactly the amount its
    ``kind`` allows is given, ``ZeroAmount``/``SameBuyAndSellToken`` as CoW refuses."""
    candidates: tuple[tuple[QuoteSide, U256 | None], ...] = (
        ("sellBeforeFee", request.sell_amount_before_fee),
        ("sellAfterFee", request.sell_amount_after_fee),
        ("buyAfterFee", request.buy_amount_after_fee),
    )
    given = [(side, amount) for side, amount in candidates if amount is not None]
    allowed: tuple[QuoteSide, ...] = (
        ("buyAfterFee",) if request.kind is OrderKind.BUY else ("sellBeforeFee", "sellAfterFee")
    )
    if len(given) != 1 or given[0][0] not in allowed:
        fields = " or ".join(_FIELD[s] for s in allowed)
        raise OrderError(
            ErrorCode.INVALID_FIELD, f"a {request.kind.value} quote takes exactly one of {fields}"
        )
    side, amount = given[0]
    if amount == 0:
        raise QuoteError(ErrorCode.ZERO_AMOUNT, f"{_FIELD[side]} is zero")
    sell, buy = TokenAddress(request.sell_token.lower()), TokenAddress(request.buy_token.lower())
    if sell == buy:
        raise QuoteError(ErrorCode.SAME_BUY_AND_SELL_TOKEN, f"sell and buy token are both {sell}")
    owner = Address(request.from_.lower())
    return QuoteQuery(sell_token=sell, buy_token=buy, side=side, amount=int(amount), owner=owner)


_FIELD: dict[QuoteSide, str] = {
    "sellBeforeFee": "sellAmountBeforeFee",
    "sellAfterFee": "sellAmountAfterFee",
    "buyAfterFee": "buyAmountAfterFee",
}


def _valid_to(request: OrderQuoteRequest, now: int) -> int:
    if request.valid_to is not None:
        return request.valid_to
    valid_for = request.valid_for if request.valid_for is not None else DEFAULT_VALID_FOR
    return min(now + valid_for, UINT32_MAX)


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


async def quote(request: web.Request) -> web.Response:
    """Price the order described by an ``OrderQuoteRequest``."""
    body = decode(_REQUEST, await request.read())
    app_data = (
        resolve_app_data(body.app_data, body.app_data_hash) if body.app_data is not None else None
    )
    quoter = request.app.get(QUOTER)
    if quoter is None:
        return error_response(503, "ServiceUnavailable", "this node has no liquidity to quote")
    query = query_of(body)
    result = await quoter(query)
    stored = stored_quote(query, body.kind, result, time.time())
    quote_id = await request.app[BOOK].insert_quote(stored)
    now = int(stored.creation_time)
    parameters = QuoteParameters(
        sell_token=query.sell_token,
        buy_token=query.buy_token,
        receiver=body.receiver.lower() if body.receiver else None,
        sell_amount=U256(result.sell_amount),
        buy_amount=U256(result.buy_amount),
        valid_to=_valid_to(body, now),
        app_data=to_hex(app_data.hash) if app_data is not None else _NO_APP_DATA,
        fee_amount=U256(result.fee_amount),
        kind=body.kind,
        partially_fillable=body.partially_fillable,
        sell_token_balance=body.sell_token_balance,
        buy_token_balance=body.buy_token_balance,
        signing_scheme=body.signing_scheme,
    )
    response = OrderQuoteResponse(
        quote=parameters,
        from_=body.from_.lower(),
        expiration=_iso(int(stored.expiration)),
        id=quote_id,
        verified=result.verified,
    )
    return web.Response(body=encode(response), content_type="application/json")


def stored_quote(
    query: QuoteQuery, kind: OrderKind, result: QuoteResult, now: float
) -> StoredQuote:
    """The quote to store for ``result``, offered until ``QUOTE_LIFETIME`` from ``now``;
    its quoted sell amount is the one priced (before the fee for ``sellBeforeFee``)."""
    before_fee = query.side == "sellBeforeFee"
    return StoredQuote(
        owner=query.owner,
        sell_token=query.sell_token,
        buy_token=query.buy_token,
        kind=kind,
        quoted_sell_amount=result.sell_amount + (result.fee_amount if before_fee else 0),
        quoted_buy_amount=result.buy_amount,
        fee_amount=result.fee_amount,
        verified=result.verified,
        creation_time=now,
        expiration=now + QUOTE_LIFETIME,
    )


def fresh_quote(quoter: Quoter, clock: Callable[[], float] = time.time) -> FreshQuote:
    """Prices the quote of an order that names none that fits (``QuoteLinker``), as CoW's
    ``get_or_create_quote``: the order's sell amount after the fee, or its buy amount;
    not simulated (a new order's link must not wait for an auction's worth of solving)."""

    async def fresh(order: Order, owner: Address) -> StoredQuote:
        sell_kind = order.kind is OrderKind.SELL
        query = QuoteQuery(
            sell_token=order.sell_token,
            buy_token=order.buy_token,
            side="sellAfterFee" if sell_kind else "buyAfterFee",
            amount=order.sell_amount if sell_kind else order.buy_amount,
            owner=owner,
            verify=False,
        )
        return stored_quote(query, order.kind, await quoter(query), clock())

    return fresh


def add_quote(app: web.Application, quoter: Quoter | None) -> None:
    """Mount ``POST /api/v1/quote`` on an orderbook ``app``, priced by ``quoter`` (without
    one the endpoint answers 503)."""
    if quoter is not None:
        app[QUOTER] = quoter
    app.router.add_post("/api/v1/quote", quote)
