"""The webhook dispatcher: claims due deliveries from the book, POSTs each event signed as
Standard Webhooks defines (``intents.webhook_signing``), and records the outcome — a 2xx is
delivered; anything else is retried after a doubling delay until ``max_attempts``, then
``failed``. Runs on the leader; claims are leases (on PostgreSQL taken with
``FOR UPDATE SKIP LOCKED``), so a second dispatcher never sends the same row, and one that
dies mid-send leaves its rows to be sent again (at least once: receivers dedupe by
``webhook-id``). Every connection resolves through ``ConnectorResolver``, which refuses
unsafe addresses (DNS rebinding), and IP-literal hosts are checked before each send."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections.abc import Callable

import aiohttp

from intents.book import OrderBook
from intents.errors import OrderError
from intents.http.webhook_resolver import ConnectorResolver
from intents.webhook_signing import delivery_headers
from intents.webhook_store import Delivery
from intents.webhook_url import parse_webhook_url, refuse_unsafe
from intents.webhooks import is_exhausted, retry_delay
from solver.leader import Leadership
from solver.webhook_flags import DispatchSettings

log = logging.getLogger(__name__)


def _check_literal(url: str, allow_private: bool) -> None:
    """IP-literal hosts never reach the resolver: check them here, before each send."""
    host = parse_webhook_url(url).host
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return  # a name: the connector's resolver checks what it resolves to
    if not allow_private:
        refuse_unsafe(host, host)


class WebhookDispatcher:
    def __init__(
        self,
        book: OrderBook,
        settings: DispatchSettings,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.book = book
        self.settings = settings
        self.clock = clock

    async def send(self, http: aiohttp.ClientSession, delivery: Delivery) -> str | None:
        """POST one delivery; None on a 2xx, else why not."""
        try:
            _check_literal(delivery.url, self.settings.allow_private)
            stamp = int(self.clock())
            headers = delivery_headers(delivery.secret, delivery.id, stamp, delivery.body)
            async with asyncio.timeout(self.settings.timeout):
                async with http.post(
                    delivery.url, data=delivery.body, headers=headers, allow_redirects=False
                ) as response:
                    await response.read()
                    if 200 <= response.status < 300:
                        return None
                    return f"HTTP {response.status}"
        except OrderError as exc:
            return exc.description
        except TimeoutError:
            return f"no response within {self.settings.timeout:g} s"
        except aiohttp.ClientConnectorError as exc:  # the resolver's refusal is its os_error
            return f"{type(exc).__name__}: {exc.host}:{exc.port}: {exc.os_error}"
        except (aiohttp.ClientError, OSError) as exc:
            return f"{type(exc).__name__}: {exc}"

    async def _attempt(self, http: aiohttp.ClientSession, delivery: Delivery) -> None:
        error = await self.send(http, delivery)
        attempts = delivery.attempts + 1
        retry_at = None
        if error is not None and not is_exhausted(attempts, self.settings.max_attempts):
            delay = retry_delay(attempts, self.settings.retry_base, self.settings.retry_cap)
            retry_at = self.clock() + delay
        if error is not None:
            log.info("webhook delivery %s attempt %d failed: %s", delivery.id, attempts, error)
        await self.book.finish_delivery(delivery.id, error=error, retry_at=retry_at)

    async def dispatch_once(self, http: aiohttp.ClientSession) -> int:
        """Send every delivery due now (one claim); how many were attempted."""
        lease = self.settings.timeout + 30.0
        due = await self.book.claim_deliveries(self.clock(), lease, self.settings.batch)
        await asyncio.gather(*(self._attempt(http, d) for d in due))
        return len(due)

    async def run(self, leadership: Leadership) -> None:
        connector = aiohttp.TCPConnector(
            resolver=ConnectorResolver(allow_private=self.settings.allow_private), limit=64
        )
        async with aiohttp.ClientSession(connector=connector) as http:
            while True:
                await leadership.wait_leader()
                try:
                    sent = await self.dispatch_once(http)
                except Exception:
                    log.exception("webhook dispatch failed; trying again")
                    sent = 0
                if sent < self.settings.batch:
                    await asyncio.sleep(self.settings.poll)
