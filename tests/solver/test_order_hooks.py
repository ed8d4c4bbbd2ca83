"""The auctioneer's side of hooks (``solver.order_hooks``, ``book_auction.order_from_book``):
an order's hooks become its trampoline pre-/post-interactions (pre only before its first
fill), reach external solvers as CoW's ``preInteractions``/``postInteractions``, count in
the declared gas, stand in for the allowance, and give the transaction headroom."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import msgspec

from intents.hooks import Hook
from intents.order import StoredOrder
from intents.types import Address
from settlement.hooks import execute_calldata, headroom_gas, hooks_gas
from solver.book_auction import order_from_book, order_hooks
from solver.dto_convert import order_to_dto
from solver.model import Solution, Trade
from solver.order_hooks import available_to_sell, with_hooks_gas
from tests.solver.engine_fixtures import model_auction
from tests.solver.test_auctioneer import stored

TRAMPOLINE = Address("0x" + "7b" * 20)
PERMIT = Hook(Address("0x" + "aa" * 20), b"\xd5\x05\xac\xcf" + bytes(32), 80_000)
POKE = Hook(Address("0x" + "70" * 20), b"\x18\x17\x83\x58", 50_000)


def with_hooks(order: StoredOrder, pre: list[Hook], post: list[Hook]) -> StoredOrder:
    def wire(h: Hook) -> dict[str, str]:
        return {
            "target": h.target,
            "callData": "0x" + h.call_data.hex(),
            "gasLimit": str(h.gas_limit),
        }

    document = json.dumps(
        {"metadata": {"hooks": {"pre": [wire(h) for h in pre], "post": [wire(h) for h in post]}}}
    )
    return msgspec.structs.replace(order, app_data_json=document)


def test_hooks_are_trampoline_interactions_pre_only_before_the_first_fill() -> None:
    fresh = with_hooks(stored(), [PERMIT], [POKE])
    order = order_from_book(fresh, None, TRAMPOLINE)
    assert [(i.target, i.call_data) for i in order.pre_interactions] == [
        (TRAMPOLINE, execute_calldata([PERMIT]))
    ]
    assert [(i.target, i.call_data) for i in order.post_interactions] == [
        (TRAMPOLINE, execute_calldata([POKE]))
    ]
    assert order.hooks_gas == hooks_gas([PERMIT]) + hooks_gas([POKE])
    wire = order_to_dto(order)  # what an external solver receives
    assert [(i.target, i.call_data) for i in wire.pre_interactions] == [
        (TRAMPOLINE, "0x" + execute_calldata([PERMIT]).hex())
    ]
    assert len(wire.post_interactions) == 1
    # once partly filled, only the post-hooks run
    filled = msgspec.structs.replace(fresh, executed_sell_amount=1)
    assert order_hooks(filled).pre == ()
    later = order_from_book(filled, None, TRAMPOLINE)
    assert (later.pre_interactions, later.hooks_gas) == ((), hooks_gas([POKE]))
    # a node without a trampoline runs none
    none = order_from_book(fresh)
    assert (none.pre_interactions, none.post_interactions, none.hooks_gas) == ((), (), 0)


def test_malformed_stored_hooks_are_not_run() -> None:
    broken = msgspec.structs.replace(stored(), app_data_json='{"metadata":{"hooks":[]}}')
    assert not order_hooks(broken)


def test_a_pending_pre_hook_stands_in_for_the_allowance() -> None:
    plain = stored()
    assert available_to_sell(plain, 100, 7) == 7
    assert available_to_sell(with_hooks(plain, [], [POKE]), 100, 7) == 7
    pending = with_hooks(plain, [PERMIT], [])
    assert available_to_sell(pending, 100, 0) == 100
    ran = msgspec.structs.replace(pending, executed_sell_amount=1)
    assert available_to_sell(ran, 100, 0) == 0


def test_engines_solutions_declare_their_orders_hooks_gas() -> None:
    fresh = with_hooks(stored(), [PERMIT], [POKE])
    orders = [order_from_book(fresh, None, TRAMPOLINE), order_from_book(stored(n=2))]
    auction = model_auction(orders, [], {}, 1, datetime.now(UTC))
    uid, plain_uid = (o.uid for o in auction.orders)
    solution = Solution(
        id=1, prices={}, trades=(Trade(uid, 10), Trade(plain_uid, 10)), legs=(), gas=1000
    )
    assert with_hooks_gas(solution, auction).gas == 1000 + hooks_gas([PERMIT]) + hooks_gas([POKE])
    alone = Solution(id=2, prices={}, trades=(Trade(plain_uid, 10),), legs=(), gas=1000)
    assert with_hooks_gas(alone, auction) is alone
    assert headroom_gas(0) == 0
    assert headroom_gas(130_000) == 130_000 // 4 + 30_000
