"""The order book keeps each round's document as given, on both backends: newest first,
by auction id, by an order it auctioned; a round recorded again replaces the first."""

from __future__ import annotations

import json

from intents.book import OrderBook
from intents.types import OrderUid
from tests.intents import test_store

book = test_store.book  # the same book fixture: SQLite and PostgreSQL


def uid(n: int) -> OrderUid:
    return OrderUid(bytes([n]) * 56)


def doc(auction_id: int, note: str = "") -> bytes:
    return json.dumps({"auctionId": auction_id, "note": note}).encode()


async def test_rounds_newest_first_by_id_and_by_order(book: OrderBook) -> None:
    await book.record_round(1, [uid(1), uid(2)], doc(1))
    await book.record_round(3, [uid(2)], doc(3))
    await book.record_round(2, [], doc(2))
    assert await book.rounds(10) == [doc(3), doc(2), doc(1)]
    assert await book.rounds(2) == [doc(3), doc(2)]
    assert await book.rounds(10, uid=uid(2)) == [doc(3), doc(1)]
    assert await book.rounds(1, uid=uid(2)) == [doc(3)]
    assert await book.rounds(10, uid=uid(1)) == [doc(1)]
    assert await book.rounds(10, uid=uid(9)) == []
    assert await book.rounds(1, auction_id=2) == [doc(2)]
    assert await book.rounds(1, auction_id=4) == []

    await book.record_round(1, [uid(1), uid(3)], doc(1, "again"))
    assert await book.rounds(1, auction_id=1) == [doc(1, "again")]
    assert await book.rounds(10, uid=uid(3)) == [doc(1, "again")]
    assert await book.rounds(10, uid=uid(1)) == [doc(1, "again")]
    assert await book.rounds(10, uid=uid(2)) == [doc(3)]  # no longer in auction 1
