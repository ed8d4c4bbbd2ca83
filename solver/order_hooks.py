"""What the auctioneer does about its orders' hooks (``intents.hooks``, ``settlement.hooks``):
funds an order whose pre-hooks have yet to run, counts hooks in its engines' declared gas,
gives a settlement's hooks gas headroom, and finds the hooks that failed in it."""

from __future__ import annotations

import logging
from dataclasses import replace

from intents.hooks import Hook
from intents.order import StoredOrder
from intents.records import HookFailureRecord
from intents.types import Address, OrderUid
from intents.wire import to_hex
from settlement.hooks import failed_hooks, headroom_gas
from settlement.submitter import Submission
from solver.book_auction import BookAuction, order_hooks
from solver.model import Auction, Solution

logger = logging.getLogger(__name__)


def available_to_sell(stored: StoredOrder, balance: int, allowance: int) -> int:
    """What an owner can pay for ``stored``: the smaller of balance and allowance, or the
    balance alone while the order's pre-hooks are still to run (they may set the allowance,
    as a permit does; if they do not, the settlement's simulation reverts and it is
    dropped)."""
    if order_hooks(stored).pre:
        return balance
    return min(balance, allowance)


def with_hooks_gas(solution: Solution, auction: Auction) -> Solution:
    """``solution`` declaring the gas its orders' hooks add (an in-process engine's solution:
    the engines count trades and legs only)."""
    orders = {o.uid: o for o in auction.orders}
    extra = sum(orders[t.order].hooks_gas for t in solution.trades if t.order in orders)
    return replace(solution, gas=solution.gas + extra) if extra else solution


def _hooks_run(round_: BookAuction, solution: Solution) -> list[tuple[OrderUid, str, int, Hook]]:
    run = []
    for trade in solution.trades:
        hooks = order_hooks(round_.stored[trade.order])
        run += [(trade.order, "pre", i, h) for i, h in enumerate(hooks.pre)]
        run += [(trade.order, "post", i, h) for i, h in enumerate(hooks.post)]
    return run


def settlement_headroom(round_: BookAuction, solution: Solution) -> int:
    """Gas to send ``solution``'s settlement with beyond its estimate, for its hooks."""
    return headroom_gas(sum(h.gas_limit for *_, h in _hooks_run(round_, solution)))


def hook_failures(
    round_: BookAuction, solution: Solution, sub: Submission, trampoline: Address | None
) -> list[HookFailureRecord]:
    """The hooks of ``solution``'s orders that its mined settlement ``sub`` reports failed
    (logged). Hooks are named by content: an order repeating a failed hook of another order
    of the same settlement is reported too."""
    if sub.mined is None or trampoline is None:
        return []
    tx_hash = sub.mined.tx_hash
    run = _hooks_run(round_, solution)
    failed = set(failed_hooks({"logs": sub.logs}, trampoline, [h for *_, h in run]))
    found = [
        HookFailureRecord(uid=u, tx_hash=tx_hash, stage=s, index=i, target=h.target)
        for u, s, i, h in run
        if h in failed
    ]
    for f in found:
        logger.warning(
            "order %s: %s-hook %d (%s) reverted in tx 0x%s; the batch settled",
            to_hex(f.uid), f.stage, f.index, f.target, tx_hash.hex(),
        )  # fmt: skip
    return found
