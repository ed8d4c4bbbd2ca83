"""Which AMM legs of a solution the settlement contract's own balances (its buffers) may pay
instead of the pool: CoW's ``internalize`` flag.

CoW's rule (``Solution::with_buffers_internalizations`` in cowprotocol/services
``crates/solvers``): legs are taken in order; a leg is internalized when its input token is
in the auction and ``trusted``, its output token is in the auction, and its output plus what
earlier internalized legs already take of that token stays within the token's
``available_balance`` (the settlement's balance). Only internalized legs consume the
buffer; gas is not changed. The driver leaves internalized interactions out of the
calldata, keeps the input and pays the output from the buffer, and refuses an internalized
interaction whose input token is not trusted (``NonBufferableTokensUsed``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from routing.pool import TokenAddress
from routing.route import Leg
from solver.model import Solution, Token


def internalizable_legs(
    legs: Sequence[Leg], tokens: Mapping[TokenAddress, Token]
) -> frozenset[int]:
    """Indices of the legs CoW's rule internalizes (see the module docstring)."""
    used: dict[TokenAddress, int] = {}
    chosen: set[int] = set()
    for index, leg in enumerate(legs):
        token_in, token_out = tokens.get(leg.token_in), tokens.get(leg.token_out)
        if token_in is None or not token_in.trusted or token_out is None:
            continue
        needed = used.get(leg.token_out, 0) + leg.amount_out
        if needed > token_out.available_balance:
            continue
        used[leg.token_out] = needed
        chosen.add(index)
    return frozenset(chosen)


def with_buffer_internalizations(
    solution: Solution, tokens: Mapping[TokenAddress, Token]
) -> Solution:
    """``solution`` with exactly the legs CoW's rule allows internalized."""
    return dataclasses.replace(solution, internalized=internalizable_legs(solution.legs, tokens))


@dataclass(frozen=True, slots=True)
class BufferUse:
    """What a solution's internalized legs ask of one token's buffer."""

    token: TokenAddress
    needed: int
    available: int


def untrusted_inputs(
    legs: Sequence[Leg], internalized: Collection[int], tokens: Mapping[TokenAddress, Token]
) -> list[TokenAddress]:
    """Input tokens of internalized legs that are not trusted (or not in the auction)."""
    found = {
        legs[i].token_in
        for i in internalized
        if not (info := tokens.get(legs[i].token_in)) or not info.trusted
    }
    return sorted(found)


def buffer_shortfalls(
    legs: Sequence[Leg], internalized: Collection[int], tokens: Mapping[TokenAddress, Token]
) -> list[BufferUse]:
    """Per output token, the internalized legs' total output where it exceeds the
    settlement's available balance (a token not in the auction has none)."""
    needed: dict[TokenAddress, int] = {}
    for i in internalized:
        needed[legs[i].token_out] = needed.get(legs[i].token_out, 0) + legs[i].amount_out
    short = []
    for token, amount in sorted(needed.items()):
        info = tokens.get(token)
        available = info.available_balance if info else 0
        if amount > available:
            short.append(BufferUse(token, amount, available))
    return short
