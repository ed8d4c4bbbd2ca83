"""Paying out the fees the settlement contract holds (custody, ``intents.fee_ledger``).

The fees stay in GPv2Settlement as buffer until a payout. Only an allow-listed solver can
move the contract's tokens, and only through the interactions of a ``settle()``: a payout
is therefore a settlement of the node's own solver account with no trades and one
``token.transfer(recipient, owed)`` interaction per (recipient, token) owed, protocol fees
to the node's fee recipient and partner fees to each partner (CoW's own fee withdrawals
are settlements of this form too). It goes through the node's ``Submitter`` like any
winner (simulated, sent, tracked); once mined, the payouts are recorded, so what is owed
drops by exactly what moved. The auctioneer runs it every ``FeeConfig.sweep_every`` rounds.
"""

from __future__ import annotations

import logging
from typing import Protocol

from intents.fee_ledger import FeeBalance, FeeLedger, FeePayout
from intents.types import TokenAddress
from settlement.encoding import Settlement
from settlement.errors import SettlementError
from settlement.interactions import transfer
from settlement.submitter import Outcome, Submission
from solver.fee_policies import FeeConfig

logger = logging.getLogger(__name__)

NOBODY = "0x" + "00" * 20
"""The recipient of fees of a policy that names none: never paid out."""


class _Submitter(Protocol):
    async def submit(self, sub: Submission) -> Submission: ...


def payout_settlement(owed: list[FeeBalance]) -> Settlement:
    """The ``settle()`` that pays every balance in ``owed`` its ``owed`` amount."""
    return Settlement(
        tokens=(),
        clearing_prices=(),
        trades=(),
        intra=tuple(transfer(TokenAddress(b.token), b.recipient, b.owed) for b in owed),
    )


async def sweep_fees(ledger: FeeLedger, submitter: _Submitter) -> list[FeePayout]:
    """Pay out everything owed (to a recipient other than nobody); the recorded payouts
    (none when nothing is owed or the settlement was not mined)."""
    owed = [b for b in await ledger.fee_balances() if b.owed > 0 and b.recipient != NOBODY]
    if not owed:
        return []
    submission = await submitter.submit(Submission(payout_settlement(owed).calldata()))
    if submission.outcome is not Outcome.SETTLED or submission.mined is None:
        logger.warning("fee payout not mined: %s", submission.outcome)
        return []
    tx = submission.mined.tx_hash
    payouts = [
        FeePayout(tx_hash=tx, recipient=b.recipient, token=b.token, amount=b.owed) for b in owed
    ]
    await ledger.record_fee_payouts(payouts)
    logger.info(
        "fees paid out in tx 0x%s: %s",
        tx.hex(),
        ", ".join(f"{p.amount} of {p.token} to {p.recipient}" for p in payouts),
    )
    return payouts


async def sweep_if_due(
    fees: FeeConfig | None, auction_id: int, ledger: FeeLedger, submitter: _Submitter
) -> None:
    """The auctioneer's payout, every ``fees.sweep_every`` rounds; a failed payout is logged
    and tried again at the next one."""
    if fees is None or not fees.sweep_every or auction_id % fees.sweep_every:
        return
    try:
        await sweep_fees(ledger, submitter)
    except (SettlementError, OSError) as exc:
        logger.warning("auction %d: the fee payout failed: %s", auction_id, exc)
