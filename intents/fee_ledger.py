"""The fees the settlement contract holds for others (custody): every protocol and partner
fee a mined winning settlement left in its buffers, owed to its recipient, and the payouts
that moved them out.

A charge counts once the fills of its order in that settlement are recorded (as solver fees
do, ``Records.solver_fees``): a reorged settlement's charges stop counting with its fills.
What is owed to a (recipient, token) is what was charged minus what was paid. Both book
adapters implement ``FeeLedger`` (``intents.fee_ledger_sqlite``, ``intents.fee_ledger_postgres``);
the tables are created ``IF NOT EXISTS`` as the records tables are.
"""

from __future__ import annotations

from typing import Any, Protocol

import msgspec

from intents.types import Address, TokenAddress


class FeeBalance(msgspec.Struct, frozen=True, kw_only=True):
    """What a recipient has been charged for in one token, what it was paid, what is owed."""

    recipient: Address
    token: TokenAddress
    accrued: int
    paid: int

    @property
    def owed(self) -> int:
        return self.accrued - self.paid


class FeePayout(msgspec.Struct, frozen=True, kw_only=True):
    """``amount`` of ``token`` moved to ``recipient`` by transaction ``tx_hash``."""

    tx_hash: bytes
    recipient: Address
    token: TokenAddress
    amount: int


def balances_of(
    accrued: list[tuple[str, str, int]], paid: list[tuple[str, str, int]]
) -> list[FeeBalance]:
    """Per (recipient, token), sorted: the accrued and the paid sums."""
    sums: dict[tuple[str, str], list[int]] = {}
    for recipient, token, amount in accrued:
        sums.setdefault((recipient, token), [0, 0])[0] += int(amount)
    for recipient, token, amount in paid:
        sums.setdefault((recipient, token), [0, 0])[1] += int(amount)
    return [
        FeeBalance(recipient=Address(r), token=TokenAddress(t), accrued=a, paid=p)
        for (r, t), (a, p) in sorted(sums.items())
    ]


class ExecutedFee(msgspec.Struct, frozen=True, kw_only=True):
    """One policy's fee on one trade (CoW's ``ExecutedProtocolFee``)."""

    policy: str  # CoW's FeePolicy JSON
    token: TokenAddress
    amount: int


TradeKey = tuple[bytes, bytes]
"""(settlement transaction hash, order UID)."""


def executed_fees(rows: list[tuple[Any, ...]]) -> dict[TradeKey, list[ExecutedFee]]:
    """(tx hash, uid, policy, token, amount) rows, in the order applied, by trade."""
    found: dict[TradeKey, list[ExecutedFee]] = {}
    for tx_hash, uid, policy, token, amount in rows:
        fee = ExecutedFee(policy=policy, token=TokenAddress(token), amount=int(amount))
        found.setdefault((bytes(tx_hash), bytes(uid)), []).append(fee)
    return found


class FeeLedger(Protocol):
    async def fee_balances(self) -> list[FeeBalance]:
        """Per (recipient, token): accrued (charges of recorded fills), paid, owed."""
        ...

    async def record_fee_payouts(self, payouts: list[FeePayout]) -> None:
        """Store mined payouts (idempotent per transaction, recipient and token)."""
        ...

    async def fee_payouts(self) -> list[FeePayout]:
        """Every recorded payout."""
        ...

    async def executed_fees(self, uids: list[bytes]) -> dict[TradeKey, list[ExecutedFee]]:
        """The protocol and partner fees of these orders' recorded trades, by trade, each
        trade's in the order they were applied."""
        ...
