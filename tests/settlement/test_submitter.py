"""Submission on the devnet: simulate-before-send, EIP-1559 fees, replacement and cancel."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account import Account as EthAccount
from web3.exceptions import TransactionNotFound

from devnet.anvil import Devnet, cs
from devnet.uniswap import mint
from intents.types import TokenAddress
from settlement.deployment import Deployment
from settlement.fills import FillTracker
from settlement.jsonrpc import BatchingRpcClient, ChainReadError
from settlement.submitter import (
    AttemptKind,
    Outcome,
    SettlementReverted,
    Submission,
    Submitter,
    SubmitterConfig,
    bump,
)
from tests.settlement.gpv2 import (
    RecordingSink,
    SignedOrder,
    balance,
    erc20,
    settle_orders,
    settlement_contract,
    sign_order,
)

SELL, BUY = 3 * 10**18, 5 * 10**18


@pytest.fixture
async def rpc(devnet: Deployment) -> AsyncIterator[BatchingRpcClient]:
    async with BatchingRpcClient(devnet.rpc_url) as client:
        yield client


def make_submitter(
    rpc: BatchingRpcClient, devnet: Deployment, sink: RecordingSink, **config: Any
) -> Submitter:
    tracker = FillTracker(rpc, devnet.settlement, sink, confirmations=2)
    cfg = SubmitterConfig(
        chain_id=devnet.chain_id, settlement=devnet.settlement, poll_interval=0.01, **config
    )
    return Submitter(rpc, cfg, devnet.solver.private_key, tracker)


@dataclass(frozen=True)
class Trade:
    """A signed order of ``accounts[0]`` selling ``SELL`` TKA for at least ``BUY`` TKB, the
    settlement contract holding enough TKB to pay it; ``calldata`` settles it at 1 TKA = 2 TKB."""

    a: TokenAddress
    b: TokenAddress
    order: SignedOrder
    calldata: bytes


@pytest.fixture
def trade(chain_state: Devnet, devnet: Deployment) -> Trade:
    a, b = devnet.tokens["TKA"], devnet.tokens["TKB"]
    order = sign_order(chain_state, devnet, devnet.accounts[0], a, b, SELL, BUY)
    mint(chain_state, b, devnet.settlement, 2 * SELL)
    return Trade(a, b, order, settle_orders(devnet, {a: 2, b: 1}, [order]).calldata())


def solver_nonce(node: Devnet, devnet: Deployment, block: str = "latest") -> int:
    return int(node.w3.eth.get_transaction_count(cs(devnet.solver.address), block))  # type: ignore[arg-type]


async def test_settles_and_hands_fills_to_the_sink(
    chain_state: Devnet, devnet: Deployment, rpc: BatchingRpcClient, trade: Trade
) -> None:
    node, order = chain_state, trade.order
    sink = RecordingSink()
    submitter = make_submitter(rpc, devnet, sink)

    sub = await submitter.submit(Submission(trade.calldata))

    assert sub.outcome is Outcome.SETTLED
    assert [a.kind for a in sub.attempts] == [AttemptKind.SETTLE]
    (fill,) = sub.fills
    assert (fill.uid, fill.owner, fill.sell_amount, fill.buy_amount) == (
        order.uid,
        order.owner.address,
        SELL,
        2 * SELL,
    )
    assert fill.tx_hash == sub.attempts[0].tx_hash and fill.block_number == sub.block_number
    assert sink.executed_sell(order.uid) == SELL
    assert settlement_contract(node, devnet).functions.filledAmount(order.uid).call() == SELL
    tx = node.w3.eth.get_transaction(sub.attempts[0].tx_hash)
    assert tx["type"] == 2 and tx["maxPriorityFeePerGas"] == submitter.config.priority_fee


@pytest.mark.parametrize("case", ["limit price", "tokens moved away"])
async def test_reverting_settlement_is_caught_in_simulation_and_never_sent(
    chain_state: Devnet,
    devnet: Deployment,
    rpc: BatchingRpcClient,
    caplog: pytest.LogCaptureFixture,
    trade: Trade,
    case: str,
) -> None:
    node, a, b, order = chain_state, trade.a, trade.b, trade.order
    trader = devnet.accounts[0]
    if case == "limit price":
        prices = {a: 1, b: 1}  # 3 TKB for 3 TKA, below the 5 TKB asked
        expected = "GPv2: limit price not respected"
    else:
        prices = {a: 2, b: 1}
        holding = balance(node, a, trader.address)
        transfer = erc20(node, a).functions.transfer(cs(devnet.accounts[1].address), holding)
        node.transact(transfer, trader.address)
        expected = "ERC20: transfer amount exceeds balance"
    submitter = make_submitter(rpc, devnet, RecordingSink())
    nonce_before, block_before = solver_nonce(node, devnet), node.w3.eth.block_number

    sub = Submission(settle_orders(devnet, prices, [order]).calldata())
    with caplog.at_level(logging.ERROR), pytest.raises(SettlementReverted) as caught:
        await submitter.submit(sub)

    assert caught.value.reason == expected
    assert caught.value.stage == "eth_call"
    assert expected in caplog.text
    assert sub.attempts == []
    assert solver_nonce(node, devnet, "pending") == nonce_before
    assert node.w3.eth.block_number == block_before


def _blocker(node: Devnet, sender: Any, gas_limit: int) -> None:
    """A transaction paying a far higher tip that burns the whole block gas limit (its
    init code loops forever), so no other transaction fits in the next block."""
    nonce = node.w3.eth.get_transaction_count(cs(sender.address), "pending")
    signed = sender.sign_transaction(
        {
            "type": 2,
            "chainId": node.chain_id,
            "nonce": nonce,
            "gas": gas_limit,
            "maxFeePerGas": 10**13,
            "maxPriorityFeePerGas": 10**12,
            "data": bytes.fromhex("5b600056"),  # JUMPDEST PUSH1 0 JUMP
            "value": 0,
        }
    )
    node.rpc("eth_sendRawTransaction", "0x" + bytes(signed.raw_transaction).hex())


async def _until(condition: Callable[[], bool]) -> None:
    """Wait (20 s at most) until the submitter task has made ``condition`` true."""
    async with asyncio.timeout(20):
        while not condition():  # noqa: ASYNC110 - polling another task's progress
            await asyncio.sleep(0.01)


async def _congested(
    node: Devnet, devnet: Deployment, submitter: Submitter, sub: Submission, until: AttemptKind
) -> None:
    """Submit ``sub`` with automine off, mine only full blocks (a blocker outbids us) until
    the submitter has sent an attempt of kind ``until``, then mine one block with room."""
    blocker = EthAccount.from_key(devnet.accounts[-1].private_key)
    gas_limit = int(node.w3.eth.get_block("latest")["gasLimit"])
    nonce = solver_nonce(node, devnet)
    node.rpc("evm_setAutomine", False)
    try:
        task = asyncio.create_task(submitter.submit(sub))
        await _until(lambda: len(sub.attempts) == 1)
        while sub.attempts[-1].kind is not until:
            _blocker(node, blocker, gas_limit)
            node.rpc("evm_mine")
            head = node.w3.eth.block_number
            await _until(lambda head=head: sub.head == head)  # type: ignore[misc]
            pending = node.rpc("txpool_content")["pending"].get(devnet.solver.address, {})
            assert list(pending) == [str(nonce)]  # one transaction of ours, at our nonce
        node.rpc("evm_mine")
        await asyncio.wait_for(task, 20)
    finally:
        node.rpc("evm_setAutomine", True)


async def test_stuck_settlement_is_replaced_then_cancelled_without_nonce_gap(
    chain_state: Devnet, devnet: Deployment, rpc: BatchingRpcClient, trade: Trade
) -> None:
    node, order, calldata = chain_state, trade.order, trade.calldata
    submitter = make_submitter(
        rpc, devnet, RecordingSink(), resubmit_after_blocks=2, deadline_blocks=5
    )
    nonce = solver_nonce(node, devnet)
    settlement = settlement_contract(node, devnet)

    sub = Submission(calldata)
    await _congested(node, devnet, submitter, sub, until=AttemptKind.CANCEL)

    assert sub.outcome is Outcome.CANCELLED
    assert sub.attempts[-1].sent_block == sub.attempts[0].sent_block + 5 == sub.deadline_block
    kinds = [x.kind for x in sub.attempts]
    assert kinds[0] is AttemptKind.SETTLE and kinds[-1] is AttemptKind.CANCEL
    assert AttemptKind.REPLACE in kinds
    for before, after in zip(sub.attempts, sub.attempts[1:], strict=False):
        assert after.nonce == before.nonce == nonce
        assert after.max_fee >= bump(before.max_fee, 125) > before.max_fee
        assert after.priority_fee >= bump(before.priority_fee, 125) > before.priority_fee
    cancel = node.w3.eth.get_transaction(sub.attempts[-1].tx_hash)
    assert cancel["to"].lower() == devnet.solver.address and cancel["value"] == 0
    assert solver_nonce(node, devnet) == nonce + 1
    assert settlement.functions.filledAmount(order.uid).call() == 0
    for attempt in sub.attempts[:-1]:
        with pytest.raises(TransactionNotFound):
            node.w3.eth.get_transaction_receipt(attempt.tx_hash)

    # The next settlement takes the next nonce (no gap) and settles the order once.
    again = await submitter.submit(Submission(calldata))
    assert again.outcome is Outcome.SETTLED
    assert again.attempts[0].nonce == nonce + 1
    assert settlement.functions.filledAmount(order.uid).call() == SELL
    assert len(again.fills) == 1


def test_fee_bump_is_at_least_12_5_percent_rounded_up() -> None:
    assert bump(8, 125) == 9
    assert bump(9, 125) == 11  # 10.125 rounds up
    assert bump(2 * 10**9, 125) == 2_250_000_000
    with pytest.raises(ValueError):
        SubmitterConfig(
            chain_id=1, settlement=TokenAddress("0x" + "00" * 20), fee_bump_permille=100
        )  # type: ignore[arg-type]


async def test_replacement_that_gets_mined_settles_once(
    chain_state: Devnet, devnet: Deployment, rpc: BatchingRpcClient, trade: Trade
) -> None:
    node, order = chain_state, trade.order
    sink = RecordingSink()
    submitter = make_submitter(rpc, devnet, sink, resubmit_after_blocks=2, deadline_blocks=10)
    sub = Submission(trade.calldata)

    await _congested(node, devnet, submitter, sub, until=AttemptKind.REPLACE)

    assert sub.outcome is Outcome.SETTLED
    assert sub.mined is sub.attempts[-1] and sub.mined.kind is AttemptKind.REPLACE
    assert [f.tx_hash for f in sub.fills] == [sub.mined.tx_hash]
    assert sink.executed_sell(order.uid) == SELL
    assert settlement_contract(node, devnet).functions.filledAmount(order.uid).call() == SELL


class FlakyRpc(BatchingRpcClient):
    """A client whose first ``failures`` calls of ``method`` find the node unreachable."""

    def __init__(self, url: str, method: str, failures: int) -> None:
        super().__init__(url)
        self.method = method
        self.failures = failures

    async def call(self, method: str, params: list[Any]) -> Any:
        if method == self.method and self.failures:
            self.failures -= 1
            raise ChainReadError("node unreachable (test)")
        return await super().call(method, params)


async def test_node_outage_while_following_does_not_lose_the_settlement(
    devnet: Deployment, caplog: pytest.LogCaptureFixture, trade: Trade
) -> None:
    sink = RecordingSink()
    async with FlakyRpc(devnet.rpc_url, "eth_getTransactionReceipt", 2) as flaky:
        submitter = make_submitter(flaky, devnet, sink)
        with caplog.at_level(logging.WARNING):
            sub = await submitter.submit(Submission(trade.calldata))
        assert flaky.failures == 0
    assert sub.outcome is Outcome.SETTLED
    assert caplog.text.count("node unreachable while following") == 1  # once per outage
    assert sink.executed_sell(trade.order.uid) == SELL


async def test_explicit_deadline_block_is_when_it_is_cancelled(
    chain_state: Devnet, devnet: Deployment, rpc: BatchingRpcClient, trade: Trade
) -> None:
    node = chain_state
    submitter = make_submitter(
        rpc, devnet, RecordingSink(), resubmit_after_blocks=10, deadline_blocks=50
    )
    deadline = node.w3.eth.block_number + 2
    sub = Submission(trade.calldata, deadline)

    await _congested(node, devnet, submitter, sub, until=AttemptKind.CANCEL)

    assert sub.outcome is Outcome.CANCELLED
    assert [x.kind for x in sub.attempts] == [AttemptKind.SETTLE, AttemptKind.CANCEL]
    assert sub.attempts[-1].sent_block == deadline
