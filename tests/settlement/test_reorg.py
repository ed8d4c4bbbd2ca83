"""Reorgs on the devnet (anvil_reorg): fills follow the canonical chain into the order book.

The sink is the real SQLite order book. A coincidence of wants (A->B against B->A at one
uniform price) settles with no AMM and no pre-funding.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from devnet.anvil import Devnet
from intents.book import OrderBook, open_book
from intents.order import OrderStatus
from settlement.deployment import Deployment
from settlement.fills import FillIndexer, FillSink, FillTracker
from settlement.jsonrpc import BatchingRpcClient
from settlement.submitter import Outcome, Submission, Submitter, SubmitterConfig
from tests.settlement.gpv2 import (
    RecordingSink,
    SignedOrder,
    settle_orders,
    settlement_contract,
    sign_order,
)

A_SOLD = 3 * 10**18
B_SOLD = 6 * 10**18  # prices A: 2, B: 1 -> each side gets exactly what the other sells
CONFIRMATIONS = 3


@pytest.fixture
async def rpc(devnet: Deployment) -> AsyncIterator[BatchingRpcClient]:
    async with BatchingRpcClient(devnet.rpc_url) as client:
        yield client


@pytest.fixture
async def book(tmp_path: Path) -> AsyncIterator[OrderBook]:
    opened = await open_book(f"sqlite:///{tmp_path / 'book.db'}")
    yield opened
    await opened.close()


async def _cow(
    node: Devnet, devnet: Deployment, book: OrderBook
) -> tuple[list[SignedOrder], bytes]:
    a, b = devnet.tokens["TKA"], devnet.tokens["TKB"]
    orders = [
        sign_order(node, devnet, devnet.accounts[0], a, b, A_SOLD, 5 * 10**18),
        sign_order(node, devnet, devnet.accounts[1], b, a, B_SOLD, 2 * 10**18),
    ]
    for order in orders:
        await book.insert(order.stored())
    return orders, settle_orders(devnet, {a: 2, b: 1}, orders).calldata()


def _parts(
    rpc: BatchingRpcClient, devnet: Deployment, sink: FillSink
) -> tuple[Submitter, FillTracker]:
    """A submitter and the tracker it hands its fills to (which writes them to ``sink``)."""
    tracker = FillTracker(rpc, devnet.settlement, sink, confirmations=CONFIRMATIONS)
    config = SubmitterConfig(
        chain_id=devnet.chain_id, settlement=devnet.settlement, poll_interval=0.01
    )
    return Submitter(rpc, config, devnet.solver.private_key, tracker), tracker


def _reorg_out(node: Devnet, block: int) -> None:
    """Replace every block from ``block`` on with empty ones."""
    node.rpc("anvil_reorg", node.w3.eth.block_number - block + 1, [])


async def _executed(book: OrderBook, orders: list[SignedOrder]) -> list[tuple[OrderStatus, int]]:
    result = []
    for order in orders:
        stored = await book.get(order.uid)
        assert stored is not None
        result.append((stored.status, stored.executed_sell_amount))
    return result


FILLED = [(OrderStatus.FILLED, A_SOLD), (OrderStatus.FILLED, B_SOLD)]
OPEN = [(OrderStatus.OPEN, 0), (OrderStatus.OPEN, 0)]


async def test_reorged_out_settlement_reopens_orders_and_resettling_fills_once(
    chain_state: Devnet, devnet: Deployment, rpc: BatchingRpcClient, book: OrderBook
) -> None:
    node = chain_state
    orders, calldata = await _cow(node, devnet, book)
    submitter, tracker = _parts(rpc, devnet, book)
    contract = settlement_contract(node, devnet)

    first = await submitter.submit(Submission(calldata))
    assert first.outcome is Outcome.SETTLED and first.block_number is not None
    assert await _executed(book, orders) == FILLED

    _reorg_out(node, first.block_number)  # the settlement is gone
    await tracker.poll()
    assert await _executed(book, orders) == OPEN
    assert [contract.functions.filledAmount(o.uid).call() for o in orders] == [0, 0]
    assert tracker.pending == {first.attempts[0].tx_hash}  # still watched: it may come back

    second = await submitter.submit(Submission(calldata))
    assert second.outcome is Outcome.SETTLED
    for _ in range(CONFIRMATIONS):
        node.rpc("evm_mine")
        await tracker.poll()
    assert await _executed(book, orders) == FILLED  # exactly once, not twice
    assert [contract.functions.filledAmount(o.uid).call() for o in orders] == [A_SOLD, B_SOLD]
    assert tracker.pending == frozenset()  # final, and the lost first attempt forgotten


async def test_settlement_remined_in_another_block_is_reconfirmed_once(
    chain_state: Devnet, devnet: Deployment, rpc: BatchingRpcClient, book: OrderBook
) -> None:
    node = chain_state
    orders, calldata = await _cow(node, devnet, book)
    submitter, tracker = _parts(rpc, devnet, book)

    sub = await submitter.submit(Submission(calldata))
    assert sub.block_number is not None
    tx_hash = "0x" + sub.attempts[0].tx_hash.hex()
    node.rpc("evm_mine")
    raw = node.rpc("eth_getRawTransactionByHash", tx_hash)
    old_block = node.w3.eth.get_block(sub.block_number)["hash"]

    # The two latest blocks are replaced; the settlement lands in the second new one.
    node.rpc("anvil_reorg", 2, [[raw, 1]])
    receipt = node.w3.eth.get_transaction_receipt(tx_hash)
    assert receipt["blockNumber"] == sub.block_number + 1 and receipt["blockHash"] != old_block
    await tracker.poll()

    assert await _executed(book, orders) == FILLED
    history = await book.status_history(orders[0].uid)
    statuses = [change.status for change in history]
    assert statuses[-3:] == [OrderStatus.FILLED, OrderStatus.OPEN, OrderStatus.FILLED]
    for _ in range(CONFIRMATIONS):
        node.rpc("evm_mine")
        await tracker.poll()
    assert tracker.pending == frozenset()
    assert await _executed(book, orders) == FILLED


async def test_indexer_records_a_settlement_its_submitter_never_wrote_and_follows_reorgs(
    chain_state: Devnet, devnet: Deployment, rpc: BatchingRpcClient, book: OrderBook
) -> None:
    node = chain_state
    orders, calldata = await _cow(node, devnet, book)
    tracker = FillTracker(rpc, devnet.settlement, book, confirmations=CONFIRMATIONS)
    indexer = FillIndexer(rpc, tracker, book, max_range=2)  # several getLogs windows
    assert await indexer.catch_up() == 0  # a fresh book: the cursor starts at the head
    start = await book.fill_cursor()
    assert start == node.w3.eth.block_number
    # the submitting node's fills go elsewhere (it died before writing them to the book)
    submitter, _elsewhere = _parts(rpc, devnet, RecordingSink())
    for _ in range(4):
        node.rpc("evm_mine")
    sub = await submitter.submit(Submission(calldata))
    assert sub.outcome is Outcome.SETTLED and sub.block_number is not None
    assert await _executed(book, orders) == OPEN

    assert await indexer.catch_up() == 1
    assert await _executed(book, orders) == FILLED
    assert tracker.pending == {sub.attempts[0].tx_hash}  # not final: watched for reorgs
    cursor = await book.fill_cursor()
    assert cursor is not None and cursor < sub.block_number  # read again next time
    assert await indexer.catch_up() == 0  # already watched: nothing new
    assert await _executed(book, orders) == FILLED  # and counted once

    _reorg_out(node, sub.block_number)
    await tracker.poll()
    assert await _executed(book, orders) == OPEN


async def test_indexer_reverts_a_dead_nodes_fill_whose_block_left_the_chain(
    chain_state: Devnet, devnet: Deployment, rpc: BatchingRpcClient, book: OrderBook
) -> None:
    node = chain_state
    orders, calldata = await _cow(node, devnet, book)
    await book.set_fill_cursor(node.w3.eth.block_number)
    submitter, _dead_tracker = _parts(rpc, devnet, book)
    sub = await submitter.submit(Submission(calldata))
    assert sub.block_number is not None
    assert await _executed(book, orders) == FILLED  # recorded; then its node dies
    _reorg_out(node, sub.block_number)

    tracker = FillTracker(rpc, devnet.settlement, book, confirmations=CONFIRMATIONS)
    assert await FillIndexer(rpc, tracker, book).catch_up() == 0
    assert await _executed(book, orders) == OPEN
    assert await book.fill_transactions(0, 2**40) == []


async def test_indexer_restarts_from_the_head_when_its_cursor_is_above_it(
    devnet: Deployment, rpc: BatchingRpcClient, book: OrderBook
) -> None:
    tracker = FillTracker(rpc, devnet.settlement, book, confirmations=CONFIRMATIONS)
    head = int(await rpc.call("eth_blockNumber", []), 16)
    await book.set_fill_cursor(head + 1000)  # set on another chain
    assert await FillIndexer(rpc, tracker, book).catch_up() == 0
    assert await book.fill_cursor() == head


async def test_running_tracker_reopens_orders_on_its_own(
    chain_state: Devnet, devnet: Deployment, rpc: BatchingRpcClient, book: OrderBook
) -> None:
    node = chain_state
    orders, calldata = await _cow(node, devnet, book)
    submitter, tracker = _parts(rpc, devnet, book)
    sub = await submitter.submit(Submission(calldata))
    assert sub.block_number is not None
    watcher = asyncio.create_task(tracker.run(0.01))
    try:
        _reorg_out(node, sub.block_number)
        async with asyncio.timeout(20):
            while await _executed(book, orders) != OPEN:  # noqa: ASYNC110 - the tracker task
                await asyncio.sleep(0.01)
    finally:
        watcher.cancel()
    assert tracker.pending == {sub.attempts[0].tx_hash}


async def test_a_fill_of_an_order_not_in_the_book_does_not_block_the_others(
    chain_state: Devnet, devnet: Deployment, rpc: BatchingRpcClient, tmp_path: Path
) -> None:
    node = chain_state
    scratch = await open_book(f"sqlite:///{tmp_path / 'scratch.db'}")
    ours = await open_book(f"sqlite:///{tmp_path / 'ours.db'}")
    try:
        orders, calldata = await _cow(node, devnet, scratch)  # both signed, ...
        await ours.insert(orders[1].stored())  # ... only the second is in our book
        submitter, _ = _parts(rpc, devnet, ours)
        sub = await submitter.submit(Submission(calldata))
        assert len(sub.fills) == 2
        assert await _executed(ours, orders[1:]) == FILLED[1:]
    finally:
        await scratch.close()
        await ours.close()


async def test_nothing_is_rewound_while_the_chain_is_not_the_recorded_one(
    chain_state: Devnet, devnet: Deployment, rpc: BatchingRpcClient, book: OrderBook
) -> None:
    node = chain_state
    orders, calldata = await _cow(node, devnet, book)
    same = [False]

    async def same_chain() -> bool:
        return same[0]

    tracker = FillTracker(
        rpc, devnet.settlement, book, confirmations=CONFIRMATIONS, same_chain=same_chain
    )
    config = SubmitterConfig(
        chain_id=devnet.chain_id, settlement=devnet.settlement, poll_interval=0.01
    )
    submitter = Submitter(rpc, config, devnet.solver.private_key, tracker)
    sub = await submitter.submit(Submission(calldata))
    assert sub.block_number is not None and await _executed(book, orders) == FILLED
    head = int(await rpc.call("eth_blockNumber", []), 16)
    await book.set_fill_cursor(head + 1000)

    _reorg_out(node, sub.block_number)  # to the tracker, as if another chain answered
    await tracker.poll()
    indexer = FillIndexer(rpc, tracker, book)
    assert await indexer.catch_up() == 0
    assert await _executed(book, orders) == FILLED  # a swapped chain is not a reorg
    assert await book.fill_cursor() == head + 1000  # nor is the cursor moved back

    same[0] = True  # the recorded chain, really reorged
    await tracker.poll()
    assert await _executed(book, orders) == OPEN
