"""The fee ledger (``intents.fee_ledger``) on both backends: the charges of a mined winner
count once its order's fills are recorded, payouts lower what is owed by exactly what they
moved, a reorged settlement's charges stop counting, and it all survives a reopen."""

from __future__ import annotations

from pathlib import Path

from intents.book import OrderBook, open_book
from intents.fee_ledger import ExecutedFee, FeePayout
from intents.records import ChargeRecord, CompetitionRecord, SolutionOrder, SolutionRecord
from intents.types import Address, TokenAddress
from intents.wire import to_hex
from tests.intents.test_store import book, fill, make_order

__all__ = ["book"]

PROTOCOL = Address("0x" + "fe" * 20)
PARTNER = Address("0x" + "ab" * 20)
WETH = TokenAddress("0x" + "c0" * 20)
TKA = TokenAddress("0x" + "d0" * 20)
SURPLUS = '{"surplus":{"factor":0.5,"maxVolumeFactor":0.01}}'
VOLUME = '{"volume":{"factor":0.0025}}'


def tx(n: int) -> bytes:
    return n.to_bytes(32, "big")


def record(
    auction_id: int, tx_hash: bytes, uid: bytes, charges: list[ChargeRecord]
) -> CompetitionRecord:
    winner = SolutionRecord(
        solver="external-0",
        solver_address="0x" + "5a" * 20,
        score=1,
        ranking=1,
        clearing_prices={},
        orders=[SolutionOrder(to_hex(uid), 10, 20, 3, charges)],
        is_winner=True,
        filtered_out=False,
        tx_hash=to_hex(tx_hash),
    )
    return CompetitionRecord(
        auction_id=auction_id,
        auction_start_block=1,
        auction_deadline_block=2,
        orders=[to_hex(uid)],
        prices={},
        solutions=[winner],
    )


def owed(balances: list) -> dict[tuple[str, str], tuple[int, int, int]]:
    return {(b.recipient, b.token): (b.accrued, b.paid, b.owed) for b in balances}


async def test_charges_count_with_their_fills_and_payouts_settle_them(
    book: OrderBook, tmp_path: Path
) -> None:
    first, second = make_order(1), make_order(2)
    for order in (first, second):
        await book.insert(order)
    await book.record_competition(
        record(
            1,
            tx(1),
            first.uid,
            [ChargeRecord(PROTOCOL, WETH, 700, SURPLUS), ChargeRecord(PARTNER, WETH, 25, VOLUME)],
        )
    )
    await book.record_competition(
        record(2, tx(2), second.uid, [ChargeRecord(PROTOCOL, TKA, 9, VOLUME)])
    )
    assert await book.fee_balances() == []  # no fill recorded yet: nothing is owed
    assert await book.executed_fees([first.uid]) == {}

    await fill(book, first, 10, 20, tx=1)
    await fill(book, second, 10, 20, tx=2)
    assert await book.executed_fees([first.uid]) == {
        (tx(1), bytes(first.uid)): [
            ExecutedFee(policy=SURPLUS, token=WETH, amount=700),
            ExecutedFee(policy=VOLUME, token=WETH, amount=25),
        ]
    }
    assert owed(await book.fee_balances()) == {
        (PROTOCOL, WETH): (700, 0, 700),
        (PARTNER, WETH): (25, 0, 25),
        (PROTOCOL, TKA): (9, 0, 9),
    }

    payout = [
        FeePayout(tx_hash=tx(9), recipient=PROTOCOL, token=WETH, amount=700),
        FeePayout(tx_hash=tx(9), recipient=PARTNER, token=WETH, amount=20),
    ]
    await book.record_fee_payouts(payout)
    await book.record_fee_payouts(payout)  # idempotent
    assert owed(await book.fee_balances()) == {
        (PROTOCOL, WETH): (700, 700, 0),
        (PARTNER, WETH): (25, 20, 5),
        (PROTOCOL, TKA): (9, 0, 9),
    }
    assert sorted(p.amount for p in await book.fee_payouts()) == [20, 700]

    # the second settlement is reorged out: its fill goes, and its charge stops counting
    await book.revert_fill(tx(2))
    assert (PROTOCOL, TKA) not in owed(await book.fee_balances())

    if "sqlite" in type(book).__name__.lower():
        await book.close()
        reopened = await open_book(f"sqlite:///{tmp_path}/nested/dir/book.db")
        try:
            assert owed(await reopened.fee_balances())[(PARTNER, WETH)] == (25, 20, 5)
        finally:
            await reopened.close()
