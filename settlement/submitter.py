"""Send a settlement to the chain and see it through: simulate, submit, replace, cancel.

One settlement at a time per solver account (a lock), so its nonce is simply the account's
pending transaction count. The life of a submission:

1. simulate with ``eth_call`` and ``eth_estimateGas`` right before sending; a settlement
   that would revert is never sent: ``SettlementReverted`` carries the decoded reason;
2. send an EIP-1559 transaction: ``maxFeePerGas = base_fee_multiplier x latest base fee +
   priority fee``;
3. if it is not mined within ``resubmit_after_blocks`` blocks, re-simulate and replace it
   at the same nonce with both fees bumped by at least 12.5% (a replacement that would now
   revert is not sent: the transaction is cancelled instead);
4. at the deadline block, cancel: a zero-value transfer to itself at the same nonce with a
   further fee bump, so whichever of our transactions gets mined uses the nonce up once;
5. when one is mined, its fills go to the ``FillTracker`` (which watches for reorgs).
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from eth_account import Account
from eth_utils.address import to_checksum_address

from intents.types import Address
from settlement.errors import SettlementError
from settlement.fills import Fill, FillTracker
from settlement.jsonrpc import BatchingRpcClient, ChainReadError, RpcError
from settlement.revert import decode_revert, revert_data

logger = logging.getLogger(__name__)

CANCEL_GAS = 21_000
MIN_BUMP_PERMILLE = 125  # nodes refuse replacements bumping less than 10% (geth) / 12.5%


class SettlementReverted(SettlementError):
    """Simulation says the settlement would revert; it was not sent."""

    code = "SettlementReverted"

    def __init__(self, stage: str, reason: str, data: bytes | None = None) -> None:
        super().__init__(f"settlement reverts in {stage}: {reason}")
        self.stage = stage
        self.reason = reason
        self.data = data


class SubmissionError(SettlementError, RuntimeError):
    """The node refused the transaction, or its nonce was used by someone else."""

    code = "SubmissionFailed"


class AttemptKind(enum.StrEnum):
    SETTLE = "settle"
    REPLACE = "replace"
    CANCEL = "cancel"


class Outcome(enum.StrEnum):
    SETTLED = "settled"
    CANCELLED = "cancelled"
    REVERTED = "reverted"
    """Mined but reverted: it passed simulation, the chain moved before it was mined."""


@dataclass(frozen=True, slots=True)
class Attempt:
    """One signed transaction sent at the submission's nonce."""

    kind: AttemptKind
    tx_hash: bytes
    nonce: int
    gas: int
    max_fee: int
    priority_fee: int
    sent_block: int


@dataclass(frozen=True, slots=True)
class SubmitterConfig:
    chain_id: int
    settlement: Address
    priority_fee: int = 2 * 10**9
    base_fee_multiplier: int = 2
    resubmit_after_blocks: int = 3
    deadline_blocks: int = 10
    """Blocks after the first send at which a still-unmined settlement is cancelled."""
    fee_bump_permille: int = MIN_BUMP_PERMILLE
    gas_margin_permille: int = 200
    block_time: int = 12
    """Seconds between blocks: simulations run at the latest timestamp plus this."""
    poll_interval: float = 0.5

    def __post_init__(self) -> None:
        if self.fee_bump_permille < MIN_BUMP_PERMILLE:
            raise ValueError("a replacement must bump fees by at least 12.5% (125 permille)")


@dataclass
class Submission:
    """A settlement's journey; ``attempts`` grow while it is pending (observable)."""

    calldata: bytes
    deadline_block: int | None = None
    """Cancel if not mined by this block; default: ``deadline_blocks`` after sending."""
    extra_gas: int = 0
    """Gas sent beyond the estimate and its margin (the hooks' headroom, ``settlement.hooks``)."""
    attempts: list[Attempt] = field(default_factory=list)
    head: int = 0
    """The latest block the submitter has dealt with for this submission."""
    outcome: Outcome | None = None
    mined: Attempt | None = None
    block_number: int | None = None
    gas_used: int | None = None
    fills: list[Fill] = field(default_factory=list)
    logs: tuple[Mapping[str, Any], ...] = ()
    """The mined settlement's receipt logs (the trampoline's ``HookFailed`` among them)."""


def bump(value: int, permille: int) -> int:
    """``value`` raised by ``permille``/1000, rounded up."""
    return value + -(-value * permille // 1000)


class Submitter:
    """Submits settlements from one solver account (its key stays in this object)."""

    def __init__(
        self,
        rpc: BatchingRpcClient,
        config: SubmitterConfig,
        solver_key: str,
        tracker: FillTracker,
        errors: Mapping[bytes, tuple[str, tuple[str, ...]]] | None = None,
    ) -> None:
        self.rpc = rpc
        self.config = config
        self._account = Account.from_key(solver_key)
        self.solver = Address(self._account.address.lower())
        self.tracker = tracker
        self.errors = errors
        self._lock = asyncio.Lock()
        self._last_nonce: int | None = None

    # -- simulation -------------------------------------------------------------------------

    async def simulate(
        self, calldata: bytes, state_override: Mapping[str, Any] | None = None
    ) -> int:
        """Run the settlement as the next block would (the latest state, with the next
        block's number and timestamp: the contracts it calls may depend on them), on top of
        ``state_override`` (``eth_call``'s state-override set) if given; return its gas
        estimate, or raise ``SettlementReverted`` with the decoded reason."""
        call = {"from": self.solver, "to": self.config.settlement, "data": "0x" + calldata.hex()}
        block = await self.rpc.call("eth_getBlockByNumber", ["latest", False])
        next_block = {
            "number": hex(int(block["number"], 16) + 1),
            "time": hex(int(block["timestamp"], 16) + self.config.block_time),
        }
        # At the latest block by hash (EIP-1898): the default, "pending", would include
        # our own stuck transaction, which has already filled the orders.
        params = [call, {"blockHash": block["hash"]}, dict(state_override or {}), next_block]
        # Both in one batch: a revert is reported from eth_call, as the first to run it.
        call_reply, estimate = await self.rpc.request_many(
            [("eth_call", params), ("eth_estimateGas", params)]
        )
        if call_reply.error is not None:
            raise self._reverted("eth_call", call_reply.error)
        if estimate.error is not None:
            raise self._reverted("eth_estimateGas", estimate.error)
        return int(estimate.result, 16)

    def _reverted(self, stage: str, error: RpcError) -> SettlementReverted:
        data = revert_data(error.data)
        if data is not None:
            reason = decode_revert(data, self.errors)
        elif error.is_revert:
            reason = error.message
        else:
            raise SubmissionError(f"{stage} failed: {error.message} ({error.code})")
        logger.error("settlement not sent: %s reverts: %s", stage, reason)
        return SettlementReverted(stage, reason, data)

    # -- submission -------------------------------------------------------------------------

    async def submit(self, sub: Submission) -> Submission:
        """Simulate, send and see ``sub.calldata`` (a ``settle()`` call) mined or cancelled;
        ``sub`` is updated as it goes (watch it from another task) and returned.

        Raises ``SettlementReverted`` (nothing sent) if the first simulation reverts, and
        ``SubmissionError`` if the node refuses it or another sender takes its nonce.
        """
        async with self._lock:
            gas = await self.simulate(sub.calldata)
            gas += gas * self.config.gas_margin_permille // 1000 + sub.extra_gas
            nonce, head, base_fee = await asyncio.gather(
                self._next_nonce(), self._head(), self._base_fee()
            )  # concurrent: one JSON-RPC batch
            priority = self.config.priority_fee
            max_fee = base_fee * self.config.base_fee_multiplier + priority
            await self._send(sub, AttemptKind.SETTLE, nonce, gas, max_fee, priority, head)
            if sub.deadline_block is None:
                sub.deadline_block = head + self.config.deadline_blocks
            await self._follow(sub, sub.deadline_block)
        return sub

    async def _follow(self, sub: Submission, deadline: int) -> None:
        unreachable = False  # an outage is logged once, not once per poll
        while True:
            try:
                if await self._step(sub, deadline):
                    return
                unreachable = False
            except ChainReadError as exc:  # our transactions are out there: keep watching
                if not unreachable:
                    logger.warning("node unreachable while following a settlement: %s", exc)
                unreachable = True
            await asyncio.sleep(self.config.poll_interval)

    async def _step(self, sub: Submission, deadline: int) -> bool:
        """Look at a new block, if any: finished, or replace or cancel when it is time."""
        head = await self._head()
        if head == sub.head:
            return False
        if await self._check_mined(sub):
            sub.head = head
            return True
        last = sub.attempts[-1]
        if last.kind is AttemptKind.CANCEL:
            pass  # cancelled: wait for one of ours to use the nonce up
        elif head >= deadline:
            logger.warning(
                "settlement 0x%s not mined by deadline block %d: cancelling",
                sub.attempts[0].tx_hash.hex(),
                deadline,
            )
            await self._resend(sub, AttemptKind.CANCEL, head)
        elif head - last.sent_block >= self.config.resubmit_after_blocks:
            await self._replace(sub, head)
        sub.head = head
        return False

    async def _replace(self, sub: Submission, head: int) -> None:
        try:
            gas = await self.simulate(sub.calldata)
        except SettlementReverted as exc:
            logger.warning("stuck settlement now reverts (%s): cancelling it", exc.reason)
            await self._resend(sub, AttemptKind.CANCEL, head)
            return
        await self._resend(sub, AttemptKind.REPLACE, head, gas)

    async def _resend(
        self, sub: Submission, kind: AttemptKind, head: int, estimate: int = 0
    ) -> None:
        last = sub.attempts[-1]
        permille = self.config.fee_bump_permille
        priority = max(bump(last.priority_fee, permille), self.config.priority_fee)
        base_fee = await self._base_fee()
        max_fee = max(
            bump(last.max_fee, permille), base_fee * self.config.base_fee_multiplier + priority
        )
        if kind is AttemptKind.CANCEL:
            gas = CANCEL_GAS
        else:
            gas = max(last.gas, estimate + estimate * self.config.gas_margin_permille // 1000)
        await self._send(sub, kind, last.nonce, gas, max_fee, priority, head)

    async def _send(
        self,
        sub: Submission,
        kind: AttemptKind,
        nonce: int,
        gas: int,
        max_fee: int,
        priority: int,
        head: int,
    ) -> None:
        cancel = kind is AttemptKind.CANCEL
        tx = {
            "type": 2,
            "chainId": self.config.chain_id,
            "nonce": nonce,
            "to": to_checksum_address(self.solver if cancel else self.config.settlement),
            "value": 0,
            "data": b"" if cancel else sub.calldata,
            "gas": gas,
            "maxFeePerGas": max_fee,
            "maxPriorityFeePerGas": priority,
        }
        signed = self._account.sign_transaction(tx)
        reply = await self.rpc.request(
            "eth_sendRawTransaction", ["0x" + bytes(signed.raw_transaction).hex()]
        )
        if reply.error is not None:
            if not sub.attempts:
                raise SubmissionError(f"node refused the settlement: {reply.error.message}")
            # A replacement can lose a race with the mining of an earlier attempt ("nonce
            # too low"); the next look at the receipts settles it.
            logger.warning("node refused %s at nonce %d: %s", kind, nonce, reply.error.message)
            return
        attempt = Attempt(kind, bytes(signed.hash), nonce, gas, max_fee, priority, head)
        sub.attempts.append(attempt)
        self._last_nonce = nonce
        logger.info(
            "%s sent: tx 0x%s nonce %d gas %d maxFee %d priorityFee %d at block %d",
            kind,
            attempt.tx_hash.hex(),
            nonce,
            gas,
            max_fee,
            priority,
            head,
        )

    async def _check_mined(self, sub: Submission) -> bool:
        """Whether one of ``sub``'s transactions is mined (then it is finished). Raises
        ``SubmissionError`` if the nonce was used by a transaction that is not ours."""
        if await self._find_receipt(sub):
            return True
        nonce = sub.attempts[-1].nonce
        used = int(await self.rpc.call("eth_getTransactionCount", [self.solver, "latest"]), 16)
        # Looked at after the receipts: one of ours may have been mined in between.
        if used > nonce and not await self._find_receipt(sub):
            raise SubmissionError(f"nonce {nonce} was used by a transaction that is not ours")
        return used > nonce

    async def _find_receipt(self, sub: Submission) -> bool:
        for attempt in reversed(sub.attempts):
            receipt = await self.rpc.call(
                "eth_getTransactionReceipt", ["0x" + attempt.tx_hash.hex()]
            )
            if receipt is not None:
                await self._finish(sub, attempt, receipt)
                return True
        return False

    async def _finish(self, sub: Submission, attempt: Attempt, receipt: Mapping[str, Any]) -> None:
        sub.mined = attempt
        sub.block_number = int(receipt["blockNumber"], 16)
        sub.gas_used = int(receipt["gasUsed"], 16)
        if attempt.kind is AttemptKind.CANCEL:
            sub.outcome = Outcome.CANCELLED
            logger.info(
                "settlement cancelled: tx 0x%s in block %d", attempt.tx_hash.hex(), sub.block_number
            )
            return
        if int(receipt["status"], 16) != 1:
            sub.outcome = Outcome.REVERTED
            logger.error(
                "settlement tx 0x%s reverted on chain in block %d (gas used %d)",
                attempt.tx_hash.hex(),
                sub.block_number,
                sub.gas_used,
            )
            return
        sub.outcome = Outcome.SETTLED
        sub.logs = tuple(receipt.get("logs", ()))
        sub.fills = await self.tracker.track(receipt, self.solver, attempt.nonce)
        logger.info(
            "settlement mined: tx 0x%s in block %d, gas used %d, %d trades",
            attempt.tx_hash.hex(),
            sub.block_number,
            sub.gas_used,
            len(sub.fills),
        )

    # -- chain state ------------------------------------------------------------------------

    async def _next_nonce(self) -> int:
        nonce = int(await self.rpc.call("eth_getTransactionCount", [self.solver, "pending"]), 16)
        if self._last_nonce is not None and nonce != self._last_nonce + 1:
            logger.warning(
                "solver nonce is %d, expected %d (reorg, dropped transaction, or another "
                "sender): following the chain",
                nonce,
                self._last_nonce + 1,
            )
        return nonce

    async def _head(self) -> int:
        return int(await self.rpc.call("eth_blockNumber", []), 16)

    async def _base_fee(self) -> int:
        block = await self.rpc.call("eth_getBlockByNumber", ["latest", False])
        return int(block["baseFeePerGas"], 16)
