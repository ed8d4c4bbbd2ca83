"""The dispatcher refuses unsafe addresses at connection time too (not only at
registration): an IP literal before sending, a name through the connector's resolver, so a
DNS answer that changed since registration cannot point it inward."""

from __future__ import annotations

import aiohttp
import pytest

from intents.http.webhook_resolver import ConnectorResolver
from intents.webhook_store import Delivery, DeliveryState
from solver.webhook_dispatch import WebhookDispatcher
from solver.webhook_flags import DispatchSettings


def delivery(url: str) -> Delivery:
    return Delivery("msg_1", "wh_1", b"{}", DeliveryState.PENDING, 0, 0.0, None, 0.0, url,
                    "whsec_" + "AAAA" * 8)  # fmt: skip


async def test_unsafe_addresses_are_refused_at_each_send() -> None:
    dispatcher = WebhookDispatcher(None, DispatchSettings(timeout=2))  # type: ignore[arg-type]
    connector = aiohttp.TCPConnector(resolver=ConnectorResolver())
    async with aiohttp.ClientSession(connector=connector) as http:
        literal = await dispatcher.send(http, delivery("http://127.0.0.1:9/hook"))
        assert literal is not None and "loopback" in literal
        named = await dispatcher.send(http, delivery("http://localhost:9/hook"))
        assert named is not None and "loopback" in named, named


async def test_the_connector_resolver_refuses_and_allows() -> None:
    with pytest.raises(OSError, match="loopback"):
        await ConnectorResolver().resolve("localhost", 80)
    results = await ConnectorResolver(allow_private=True).resolve("localhost", 80)
    assert results and all(r["port"] == 80 for r in results)
