"""``PreSignature`` events on the devnet follow the canonical chain into the order book:
a pending presign order opens on ``setPreSignature(uid, true)``, goes back on revocation,
and a reorg (anvil_reorg) that drops the event sends it back too."""

from __future__ import annotations

import msgspec

from devnet.anvil import Devnet, Tx
from intents.book import OrderBook
from intents.lifecycle import gate
from intents.order import OrderStatus, SigningScheme, StoredOrder
from settlement.deployment import Deployment
from settlement.jsonrpc import BatchingRpcClient
from settlement.presignatures import PresignatureIndexer
from tests.intents.test_store import make_order
from tests.settlement.test_chain_reader import SETTLEMENT
from tests.settlement.test_reorg import book, rpc

__all__ = ["book", "rpc"]  # the fixtures

CONFIRMATIONS = 3


def pending_order(owner: str, n: int = 1) -> StoredOrder:
    plain = make_order(n, owner=owner)  # type: ignore[arg-type]
    return gate(
        msgspec.structs.replace(
            plain, signing_scheme=SigningScheme.PRESIGN, signature=b"", presigned=False
        )
    )


def presign(node: Devnet, devnet: Deployment, order: StoredOrder, signed: bool) -> int:
    """Send ``setPreSignature(uid, signed)`` from the owner; the block it is in."""
    call = SETTLEMENT.encode_call("setPreSignature", order.uid, signed)
    node.send([Tx(order.owner, call, devnet.settlement)])
    return int(node.w3.eth.block_number)


async def status(book: OrderBook, order: StoredOrder) -> OrderStatus:
    stored = await book.get(order.uid)
    assert stored is not None
    return stored.status


async def test_events_open_revoke_and_follow_a_reorg(
    chain_state: Devnet, devnet: Deployment, rpc: BatchingRpcClient, book: OrderBook
) -> None:
    node = chain_state
    indexer = PresignatureIndexer(rpc, devnet.settlement, book, CONFIRMATIONS)
    order = pending_order(devnet.accounts[0].address)
    await book.insert(order)
    assert await indexer.catch_up() == 0  # a fresh book starts at the head
    assert await book.presignature_cursor() == node.w3.eth.block_number

    signed_in = presign(node, devnet, order, True)
    assert await indexer.catch_up() == 1
    assert await status(book, order) is OrderStatus.OPEN
    assert await indexer.catch_up() == 0  # nothing new

    presign(node, devnet, order, False)
    assert await indexer.catch_up() == 1
    assert await status(book, order) is OrderStatus.PRESIGNATURE_PENDING

    node.rpc("anvil_reorg", node.w3.eth.block_number - signed_in + 1, [])  # both gone
    presign(node, devnet, order, True)  # signed again, in the new chain
    assert await indexer.catch_up() == 1
    assert await status(book, order) is OrderStatus.OPEN
    events = await book.presignature_events(0)
    assert [(e.uid, e.signed, e.owner) for e in events] == [(order.uid, True, order.owner)]

    last = node.w3.eth.block_number
    node.rpc("anvil_reorg", 1, [])  # the re-signing block is replaced by an empty one
    assert await indexer.catch_up() == 1
    assert await status(book, order) is OrderStatus.PRESIGNATURE_PENDING
    assert node.w3.eth.block_number == last

    for _ in range(CONFIRMATIONS):
        node.rpc("evm_mine")
    await indexer.catch_up()
    assert await book.presignature_cursor() == node.w3.eth.block_number - CONFIRMATIONS + 1


async def test_nothing_is_dropped_while_the_chain_is_another(
    chain_state: Devnet, devnet: Deployment, rpc: BatchingRpcClient, book: OrderBook
) -> None:
    node = chain_state
    answer = True

    async def same_chain() -> bool:
        return answer

    indexer = PresignatureIndexer(rpc, devnet.settlement, book, CONFIRMATIONS, same_chain)
    order = pending_order(devnet.accounts[0].address)
    await book.insert(order)
    await indexer.catch_up()
    presign(node, devnet, order, True)
    await indexer.catch_up()
    node.rpc("anvil_reorg", 1, [])
    answer = False
    assert await indexer.catch_up() == 0
    assert await status(book, order) is OrderStatus.OPEN
    answer = True
    assert await indexer.catch_up() == 1
    assert await status(book, order) is OrderStatus.PRESIGNATURE_PENDING
