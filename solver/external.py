"""External solver engines over HTTP, as CoW's driver calls them: ``POST {url}/solve`` with
the auction, ``POST {url}/notify`` with what became of a solution.

A solver that errs, answers garbage or misses the deadline simply makes no bid: the failure
is logged with its name and ``solve`` returns no solutions. Each solution in an answer is
converted to the internal model on its own; one that the model cannot hold (JIT trades,
custom interactions, pre/post interactions, whose token flows cannot be verified) is logged
and dropped with a ``SolutionRejected`` code, and the others are kept.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp
import msgspec

from solver import dto, dto_notification
from solver.checks import SolutionRejected, uniform_prices
from solver.dto_convert import solution_from_dto
from solver.model import Solution

logger = logging.getLogger(__name__)

_HEADERS = {"Content-Type": "application/json"}


@dataclass(frozen=True, slots=True)
class ExternalSolver:
    """A solver engine reachable at ``url`` (its base: ``/solve`` and ``/notify`` below)."""

    name: str
    url: str
    notify_timeout: float = 5.0
    """Seconds to wait for ``/notify`` to be acknowledged."""

    async def solve(
        self,
        session: aiohttp.ClientSession,
        auction: dto.Auction,
        *,
        now: datetime | None = None,
    ) -> list[Solution]:
        """Ask for solutions, waiting no longer than the auction's deadline; any failure is
        logged and yields no solutions."""
        deadline = auction.deadline
        if deadline.tzinfo is None:  # a deadline without an offset is UTC
            deadline = deadline.replace(tzinfo=UTC)
        remaining = (deadline - (now or datetime.now(UTC))).total_seconds()
        if remaining <= 0:
            logger.warning(
                "solver %s not asked: auction %s is past its deadline", self.name, auction.id
            )
            return []
        try:
            async with session.post(
                f"{self.url.rstrip('/')}/solve",
                data=dto.encode(auction),
                headers=_HEADERS,
                timeout=aiohttp.ClientTimeout(total=remaining),
            ) as response:
                body = await response.read()
                if response.status != 200:
                    logger.warning(
                        "solver %s answered HTTP %d for auction %s: %s",
                        self.name,
                        response.status,
                        auction.id,
                        body[:200].decode(errors="replace"),
                    )
                    return []
        except TimeoutError:
            logger.warning(
                "solver %s missed the deadline of auction %s (%.2f s)",
                self.name,
                auction.id,
                remaining,
            )
            return []
        except aiohttp.ClientError as exc:
            logger.warning("solver %s unreachable: %s: %s", self.name, type(exc).__name__, exc)
            return []
        return self._solutions(body, auction)

    def _solutions(self, body: bytes, auction: dto.Auction) -> list[Solution]:
        try:
            answer = dto.decode_solver_response(body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            logger.warning("solver %s sent an undecodable answer: %s", self.name, exc)
            return []
        if answer.error is not None:
            logger.info(
                "solver %s declined auction %s: %s %s",
                self.name,
                auction.id,
                answer.error.code,
                answer.error.message or "",
            )
            return []
        solutions = []
        for solution in answer.solutions:
            try:
                raw = solution_from_dto(solution, engine=self.name)
                solutions.append(dataclasses.replace(raw, prices=uniform_prices(raw)))
            except SolutionRejected as error:
                logger.warning(
                    "solver %s solution %d rejected: %s: %s",
                    self.name,
                    solution.id,
                    error.code,
                    error.message,
                )
        logger.info(
            "solver %s returned %d solution(s) for auction %s",
            self.name,
            len(solutions),
            auction.id,
        )
        return solutions

    async def notify(
        self,
        session: aiohttp.ClientSession,
        notification: dto_notification.Notification,
    ) -> bool:
        """Tell the solver what became of its solution; ``False`` (logged) if it failed."""
        try:
            async with session.post(
                f"{self.url.rstrip('/')}/notify",
                data=dto.encode(notification),
                headers=_HEADERS,
                timeout=aiohttp.ClientTimeout(total=self.notify_timeout),
            ) as response:
                await response.read()
                if response.status >= 300:
                    logger.warning(
                        "solver %s refused a notification: HTTP %d", self.name, response.status
                    )
                    return False
        except (TimeoutError, aiohttp.ClientError) as exc:
            logger.warning("solver %s not notified: %s: %s", self.name, type(exc).__name__, exc)
            return False
        return True
