"""The conditional-order releaser: each part becomes a normal GPv2 order in the book when,
and only when, it is due.

Every ``interval`` seconds, while this node leads (the auctioneer's leadership: one
releaser per network), a tick reads the clock (injected: the node uses ``chain_clock``, the
later of the wall clock and the chain's latest block timestamp; tests step a fake one) and
walks the pending parts of the active conditional orders:

- a part whose ``validTo`` has passed is ``expired``;
- a part before its ``notBefore`` is left alone (nothing is released early);
- a stop-loss part waits until its strike is reached (``PriceSource``, the reason noted);
- a due part is built as an ``OrderCreation`` with the signature stored for it and run
  through the node's ``OrderValidator``, the same checks as ``POST /api/v1/orders``
  (signature, balance and allowance, validity, the limit-order cap). For an EIP-1271 owner
  that is where the wallet authorizes the part, at the time it is due; a refusal (the
  wallet not accepting yet, funds missing) is noted and the part retried next tick;
- an accepted part is claimed (``release_part``: pending to released, so a cancellation
  that raced it wins or loses whole) and only then inserted into the book.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from intents.book import OrderBook
from intents.conditional import PartSpec, StopLoss, parts_of
from intents.conditional_store import PartStatus, StoredConditional
from intents.errors import DuplicatedOrder, OrderError
from intents.types import OrderUid
from intents.validation import OrderValidator
from intents.wire import OrderCreation
from settlement.jsonrpc import BatchingRpcClient, ChainReadError
from settlement.price_oracle import chain_time
from solver.errors import SolverError
from solver.leader import Leadership

log = logging.getLogger(__name__)

Clock = Callable[[], Awaitable[float]]


class PriceUnavailable(SolverError, LookupError):
    """No usable price now (stale or missing oracle answer, no auction price)."""

    code = "PriceUnavailable"


class PriceSource(Protocol):
    async def strike_price(self, stop: StopLoss, now: float) -> int:
        """The sell token's price in the buy token, 18 decimals, as ``StopLoss`` compares
        it with its strike; raises ``PriceUnavailable`` with the reason."""
        ...


def chain_clock(rpc: BatchingRpcClient) -> Clock:
    """The later of the wall clock and the chain's latest block timestamp (a devnet's
    ``evm_increaseTime`` moves it ahead; an unreachable node leaves the wall clock)."""

    async def now() -> float:
        try:
            return max(time.time(), float(await chain_time(rpc)))
        except ChainReadError:
            return time.time()

    return now


class ConditionalReleaser:
    def __init__(
        self,
        *,
        book: OrderBook,
        validator: OrderValidator,
        prices: PriceSource,
        clock: Clock,
        interval: float = 1.0,
    ) -> None:
        self.book = book
        self.validator = validator
        self.prices = prices
        self.clock = clock
        self.interval = interval

    async def tick(self) -> list[OrderUid]:
        """One pass over the pending parts; the UIDs released into the book."""
        now = await self.clock()
        released: list[OrderUid] = []
        for conditional in await self.book.active_conditionals():
            try:  # one order failing (its price source, its wallet) holds up no other
                released += await self._tick_one(conditional, now)
            except (OrderError, ChainReadError, OSError) as exc:
                log.warning("conditional order 0x%s: release failed: %s", conditional.id.hex(), exc)
        return released

    async def _tick_one(self, conditional: StoredConditional, now: float) -> list[OrderUid]:
        released: list[OrderUid] = []
        specs = parts_of(conditional.document.params)
        for spec, state in zip(specs, conditional.parts, strict=True):
            if state.status is not PartStatus.PENDING:
                continue
            if spec.order.valid_to < now:
                await self.book.expire_part(conditional.id, spec.index, now)
                continue
            if now < spec.not_before:
                break  # the parts are in time order: none after this one is due either
            uid = await self._release(conditional, spec, now)
            if uid is not None:
                released.append(uid)
        return released

    async def _release(
        self, conditional: StoredConditional, spec: PartSpec, now: float
    ) -> OrderUid | None:
        cid, index = conditional.id, spec.index
        if spec.trigger is not None:
            waiting = await self._untriggered(spec.trigger, now)
            if waiting is not None:
                await self.book.note_part(cid, index, waiting, now)
                return None
        document = conditional.document
        creation = OrderCreation.from_order(
            spec.order,
            signing_scheme=document.signing_scheme,
            signature=document.part_signatures[index],
            from_=conditional.owner,
        )
        try:
            stored = await self.validator.validate(creation)
        except OrderError as exc:
            await self.book.note_part(cid, index, f"{exc.code}: {exc.description}", now)
            return None
        if not await self.book.release_part(cid, index, stored.uid, now):
            return None  # cancelled (or released) meanwhile
        with contextlib.suppress(DuplicatedOrder):  # posted as a plain order already
            await self.book.insert(stored)
        log.info(
            "conditional order 0x%s: part %d released as 0x%s", cid.hex(), index, stored.uid.hex()
        )
        return stored.uid

    async def _untriggered(self, stop: StopLoss, now: float) -> str | None:
        """None once the strike is reached; else why the part waits."""
        try:
            price = await self.prices.strike_price(stop, now)
        except PriceUnavailable as exc:
            return f"PriceUnavailable: {exc}"
        except ChainReadError as exc:
            return f"ChainUnavailable: {exc}"
        if price > stop.strike:
            return f"StrikeNotReached: price {price} is above the strike {stop.strike}"
        return None

    async def recover(self) -> None:
        """Insert released parts missing from the book (a crash between claim and insert),
        of any conditional order: its last part, or a cancellation after the claim, leaves it
        with no part pending."""
        for conditional in await self.book.unbooked_releases():
            specs = parts_of(conditional.document.params)
            for spec, state in zip(specs, conditional.parts, strict=True):
                released = state.status is PartStatus.RELEASED and state.uid is not None
                if released and await self.book.get(OrderUid(state.uid or b"")) is None:
                    await self._reinsert(conditional, spec)

    async def _reinsert(self, conditional: StoredConditional, spec: PartSpec) -> None:
        document = conditional.document
        creation = OrderCreation.from_order(
            spec.order,
            signing_scheme=document.signing_scheme,
            signature=document.part_signatures[spec.index],
            from_=conditional.owner,
        )
        try:
            await self.book.insert(await self.validator.validate(creation))
        except OrderError as exc:
            log.warning("conditional part %d not restored: %s", spec.index, exc)

    async def run(self, leadership: Leadership) -> None:
        """Tick every ``interval`` while this node leads; a failing tick is logged."""
        await leadership.wait_leader()
        with contextlib.suppress(OrderError, ChainReadError):
            await self.recover()
        while True:
            started = time.monotonic()
            if await leadership.is_leader():
                try:
                    await self.tick()
                except (OrderError, ChainReadError, OSError) as exc:
                    log.warning("conditional release tick failed: %s", exc)
            await asyncio.sleep(max(0.0, self.interval - (time.monotonic() - started)))
