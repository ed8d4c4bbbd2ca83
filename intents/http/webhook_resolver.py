"""Name resolution that refuses unsafe webhook addresses (SSRF), used both when a webhook is
registered and by the dispatcher's connector at every connection: a DNS answer that
changes after registration (rebinding) is checked again before anything is sent."""

from __future__ import annotations

import socket
from typing import Any

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from intents.errors import OrderError
from intents.webhook_url import refuse_unsafe


class SafeResolver(AbstractResolver):
    """Resolves as aiohttp does; raises ``OrderError`` ``UnsafeWebhookUrl`` when any address
    is unsafe (unless ``allow_private``), and ``OSError`` when the name does not resolve."""

    def __init__(self, *, allow_private: bool = False) -> None:
        self._inner = ThreadedResolver()
        self.allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        if not self.allow_private:
            for result in results:
                refuse_unsafe(host, result["host"])
        return results

    async def close(self) -> None:
        await self._inner.close()


class ConnectorResolver(SafeResolver):
    """``SafeResolver`` for an aiohttp connector: its refusal is an ``OSError``, so the
    request fails as a connection error (and the delivery is retried, then failed)."""

    async def resolve(self, *args: Any, **kwargs: Any) -> list[ResolveResult]:
        try:
            return await super().resolve(*args, **kwargs)
        except OrderError as exc:
            raise OSError(exc.description) from None  # aiohttp: a connection error
