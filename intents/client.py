"""A typed async Python client of a Tributary node (issue 16): quote, post, read, follow,
wait, cancel, conditional orders. The documents are the node's own msgspec models
(``intents.wire``, ``intents.conditional_wire``, the quote, trade and event models of
``intents.http``), so client and server cannot disagree on a shape; signing is
``intents.client_wallet.Wallet``.

    async with TributaryClient("http://127.0.0.1:8080") as node:
        quote = await node.quote(OrderQuoteRequest(...))
        uid = await node.post_order(wallet.sign_order(order_from_quote(quote, 50)))
        final = await node.wait(uid)

A refusal raises ``ApiError(status, error_type, description)`` from the node's
``{"errorType", "description"}`` body.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Collection
from typing import TypeVar

import aiohttp
import msgspec

from intents.client_wallet import Wallet, order_digest, presign_calldata, sign_order
from intents.conditional_wire import (
    ConditionalOrderCancellation,
    ConditionalOrderCreation,
    ConditionalOrderResponse,
)
from intents.eip712 import unpack_uid
from intents.http.events import StatusEvent
from intents.http.quote import OrderQuoteRequest, OrderQuoteResponse
from intents.http.trades import Trade
from intents.order import Order, OrderKind, OrderStatus
from intents.types import Address, TokenAddress
from intents.wire import (
    ErrorBody,
    OrderCancellations,
    OrderCreation,
    OrderResponse,
    WireStatus,
    decoder,
    encode,
)

__all__ = [
    "FINAL",
    "ApiError",
    "OrderQuoteRequest",
    "StreamLagged",
    "TributaryClient",
    "Wallet",
    "order_digest",
    "order_from_quote",
    "presign_calldata",
    "sign_order",
]

T = TypeVar("T")
FINAL: frozenset[WireStatus] = frozenset(("fulfilled", "cancelled", "expired"))
"""The wire statuses an order does not leave."""
_FINAL_EVENTS = frozenset((OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.EXPIRED))
_JSON = {"Content-Type": "application/json"}
_ERROR = decoder(ErrorBody)


class ApiError(Exception):
    """The node refused a request: HTTP ``status``, CoW's ``error_type`` (e.g.
    ``DuplicatedOrder``) and the node's sentence."""

    def __init__(self, status: int, error_type: str, description: str) -> None:
        super().__init__(f"HTTP {status} {error_type}: {description}")
        self.status = status
        self.error_type = error_type
        self.description = description


class StreamLagged(Exception):
    """The node dropped the event stream because this reader fell behind; re-read state."""


def order_from_quote(
    quote: OrderQuoteResponse, slippage_bps: int = 0, *, receiver: str | None = None
) -> Order:
    """The order to sign for ``quote`` as cow-sdk builds it: the fee folded into the sell
    amount (``feeAmount`` 0), the limit ``slippage_bps`` below the quoted buy amount (a sell)
    or above the quoted sell amount (a buy)."""
    q = quote.quote
    sell, buy = int(q.sell_amount) + int(q.fee_amount), int(q.buy_amount)
    if q.kind is OrderKind.SELL:
        buy = buy * (10_000 - slippage_bps) // 10_000
    else:
        sell = -(-sell * (10_000 + slippage_bps) // 10_000)
    return Order(
        sell_token=TokenAddress(q.sell_token.lower()),
        buy_token=TokenAddress(q.buy_token.lower()),
        receiver=Address((receiver or q.receiver or quote.from_).lower()),
        sell_amount=sell,
        buy_amount=buy,
        valid_to=q.valid_to,
        app_data=bytes.fromhex(q.app_data[2:]) if q.app_data.startswith("0x") else bytes(32),
        fee_amount=0,
        kind=q.kind,
        partially_fillable=q.partially_fillable,
        sell_token_balance=q.sell_token_balance,
        buy_token_balance=q.buy_token_balance,
    )


class TributaryClient:
    """An aiohttp session on one node; use as ``async with``."""

    def __init__(self, base_url: str, *, request_timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> TributaryClient:
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("use the client as `async with TributaryClient(url) as client`")
        return self._session

    async def _request(
        self,
        method: str,
        path: str,
        answer: type[T],
        *,
        body: object = None,
        params: dict[str, str] | None = None,
        ok: Collection[int] = (200, 201),
    ) -> T:
        data = encode(body) if body is not None else None
        async with self.session.request(
            method,
            self.base_url + path,
            data=data,
            params=params,
            headers=_JSON if data is not None else None,
            timeout=self._timeout,
        ) as response:
            raw = await response.read()
            if response.status not in ok:
                raise _api_error(response.status, raw)
        return decoder(answer).decode(raw)

    # Orders ---------------------------------------------------------------------------

    async def quote(self, request: OrderQuoteRequest) -> OrderQuoteResponse:
        """``POST /api/v1/quote``: the order to sign, priced (and verified) by the node."""
        return await self._request("POST", "/api/v1/quote", OrderQuoteResponse, body=request)

    async def post_order(self, creation: OrderCreation) -> str:
        """``POST /api/v1/orders``: the UID, once the node stored the order durably."""
        return await self._request("POST", "/api/v1/orders", str, body=creation, ok=(201,))

    async def order(self, uid: str) -> OrderResponse:
        return await self._request("GET", f"/api/v1/orders/{uid}", OrderResponse)

    async def orders_by_owner(
        self, owner: str, *, offset: int = 0, limit: int = 10
    ) -> list[OrderResponse]:
        """The owner's orders, newest first."""
        return await self._page(f"/api/v1/account/{owner}/orders", OrderResponse, offset, limit)

    async def _page(self, path: str, item: type[T], offset: int, limit: int) -> list[T]:
        params = {"offset": str(offset), "limit": str(limit)}
        return await self._request("GET", path, list[item], params=params)  # type: ignore[valid-type]

    async def trades(
        self, *, owner: str | None = None, order_uid: str | None = None
    ) -> list[Trade]:
        """Every trade of one owner or one order (exactly one of them), newest first."""
        params = {"owner": owner} if owner is not None else {}
        if order_uid is not None:
            params["orderUid"] = order_uid
        return await self._request("GET", "/api/v1/trades", list[Trade], params=params)

    async def cancel(self, cancellation: OrderCancellations) -> str:
        """``DELETE /api/v1/orders`` with a signed ``OrderCancellations``
        (``Wallet.cancellation``): all of them are cancelled, or none; ``"Cancelled"``."""
        return await self._request("DELETE", "/api/v1/orders", str, body=cancellation)

    # Status events --------------------------------------------------------------------

    async def follow(
        self, *, uid: str | None = None, owner: str | None = None
    ) -> AsyncIterator[StatusEvent]:
        """The status changes of one order (``uid``) or of an ``owner``'s orders, from the
        node's server-sent events. Following an order first yields its state when the
        subscription opened (nothing is missed in between), and ends after its final
        status. Raises ``StreamLagged`` if the node dropped a reader that fell behind."""
        if uid is not None:
            owner = unpack_uid(bytes.fromhex(uid[2:]))[1]
        params = {"owner": owner} if owner is not None else None
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self._timeout.total)
        async with self.session.get(
            self.base_url + "/api/v1/events", params=params, timeout=timeout
        ) as response:
            if response.status != 200:
                raise _api_error(response.status, await response.read())
            if uid is not None and (current := await self._event_now(uid)) is not None:
                yield current  # subscribed: the state now, then every change after it
                if current.status in _FINAL_EVENTS:
                    return
            async for event_type, data in _sse(response.content):
                if event_type == "lagged":
                    raise StreamLagged("the node dropped this event stream: re-read the state")
                if event_type != "status":
                    continue
                event = _EVENT.decode(data)
                if uid is None or event.uid == uid:
                    yield event
                    if uid is not None and event.status in _FINAL_EVENTS:
                        return

    async def _event_now(self, uid: str) -> StatusEvent | None:
        """The order's state as an event; None if it is not in the book (yet: a
        conditional order's part before its release)."""
        try:
            return _as_event(await self.order(uid))
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    async def wait(
        self, uid: str, *, until: Collection[str] = FINAL, within: float = 60.0
    ) -> OrderResponse:
        """The order once its wire status is one of ``until`` (default: final), following
        its events; ``TimeoutError`` after ``within`` seconds. A partially fillable order
        shows ``open`` while it trades: wait for ``{"fulfilled"}`` or read its amounts.
        An order not in the book yet (a conditional part) is waited for too; one that ends
        in another final status raises ``ApiError`` ``UnexpectedStatus``."""
        async with asyncio.timeout(within):
            while True:
                try:
                    async for _ in self.follow(uid=uid):
                        state = await self.order(uid)
                        if state.status in until:
                            return state
                except StreamLagged:
                    continue
                if await self._event_now(uid) is None:
                    await asyncio.sleep(0.5)  # the stream ended and the order is unknown
                    continue
                state = await self.order(uid)  # the stream ended (node shutdown, final)
                if state.status in until:
                    return state
                if state.status in FINAL:
                    raise ApiError(
                        200, "UnexpectedStatus", f"order {uid} ended {state.status}, not {until}"
                    )

    # Conditional orders ---------------------------------------------------------------

    async def create_conditional(self, creation: ConditionalOrderCreation) -> str:
        """``POST /api/v1/conditional_orders``: the conditional order's id."""
        path = "/api/v1/conditional_orders"
        return await self._request("POST", path, str, body=creation, ok=(201,))

    async def conditional(self, conditional_id: str) -> ConditionalOrderResponse:
        """Its parts (each released one with its order), status and history."""
        path = f"/api/v1/conditional_orders/{conditional_id}"
        return await self._request("GET", path, ConditionalOrderResponse)

    async def conditionals_by_owner(
        self, owner: str, *, offset: int = 0, limit: int = 10
    ) -> list[ConditionalOrderResponse]:
        """The owner's conditional orders, newest first."""
        path = f"/api/v1/account/{owner}/conditional_orders"
        return await self._page(path, ConditionalOrderResponse, offset, limit)

    async def cancel_conditional(
        self, conditional_id: str, cancellation: ConditionalOrderCancellation
    ) -> str:
        """No pending part is released any more (released parts are orders: ``cancel``);
        the node's answer, ``"Cancelled"``."""
        path = f"/api/v1/conditional_orders/{conditional_id}"
        return await self._request("DELETE", path, str, body=cancellation)


_EVENT = msgspec.json.Decoder(StatusEvent)
_WIRE_TO_EVENT: dict[str, OrderStatus] = {
    "presignaturePending": OrderStatus.PRESIGNATURE_PENDING,
    "open": OrderStatus.OPEN,
    "fulfilled": OrderStatus.FILLED,
    "cancelled": OrderStatus.CANCELLED,
    "expired": OrderStatus.EXPIRED,
}


def _as_event(state: OrderResponse) -> StatusEvent:
    status = _WIRE_TO_EVENT[state.status]
    if status is OrderStatus.OPEN and int(state.executed_buy_amount) > 0:
        status = OrderStatus.PARTIALLY_FILLED
    return StatusEvent(state.uid, state.owner, status, time.time())


def _api_error(status: int, raw: bytes) -> ApiError:
    try:
        body = _ERROR.decode(raw)
    except msgspec.DecodeError:
        return ApiError(status, "UnexpectedResponse", raw[:500].decode("utf-8", "replace"))
    return ApiError(status, body.error_type, body.description)


async def _sse(content: aiohttp.StreamReader) -> AsyncIterator[tuple[str, bytes]]:
    """``(event type, data)`` of each server-sent event (comments skipped)."""
    event_type, data = "message", b""
    async for raw in content:
        line = raw.rstrip(b"\r\n")
        if not line:
            if data:
                yield event_type, data
            event_type, data = "message", b""
        elif line.startswith(b":"):
            continue
        elif line.startswith(b"event:"):
            event_type = line[6:].strip().decode()
        elif line.startswith(b"data:"):
            data = (data + b"\n" if data else b"") + line[5:].strip()
