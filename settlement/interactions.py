"""Interactions that execute AMM legs from the settlement contract's own balance.

A leg is one swap through one pool with exact amounts (the routing engine's legs, plus
the pool kind and, for Uniswap V3, its fee tier). They run in the settlement's ``intra``
stage, after the sellers' tokens are pulled in and before the buyers are paid:

- Uniswap V2: ``token_in.transfer(pair, amount_in)``, then ``pair.swap(amount0Out,
  amount1Out, settlement, "")``: the pair pays ``amount_out`` if its invariant still holds,
  so ``amount_out`` must not exceed the exact ``getAmountOut``.
- Uniswap V3: the pool pays first and collects in a callback only a contract can answer, so
  the swap goes through the periphery ``SwapRouter.exactInputSingle`` with ``amount_out``
  as the minimum. The router pulls ``token_in`` with ``transferFrom``: the settlement
  approves it for exactly ``amount_in``, which the swap spends to zero. Never an unlimited
  approval: the settlement contract makes arbitrary calls for whichever solver wins.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from intents.types import Address, TokenAddress
from settlement.encoding import Interaction
from settlement.errors import SettlementError


def _selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


TRANSFER = _selector("transfer(address,uint256)")
APPROVE = _selector("approve(address,uint256)")
V2_SWAP = _selector("swap(uint256,uint256,address,bytes)")
V3_EXACT_INPUT_SINGLE = _selector(
    "exactInputSingle((address,address,uint24,address,uint256,uint256,uint256,uint160))"
)


class PoolKind(enum.StrEnum):
    UNISWAP_V2 = "uniswapV2"
    UNISWAP_V3 = "uniswapV3"


class InteractionError(SettlementError, ValueError):
    """A leg cannot be turned into safe interactions."""

    code = "InvalidRoute"


@dataclass(frozen=True, slots=True)
class Leg:
    """One swap: ``amount_in`` of ``token_in`` into ``pool`` for ``amount_out`` of
    ``token_out`` (exact for V2, the minimum accepted for V3)."""

    kind: PoolKind
    pool: Address
    token_in: TokenAddress
    token_out: TokenAddress
    amount_in: int
    amount_out: int
    fee: int = 0
    """Uniswap V3 fee tier in hundredths of a basis point (500, 3000, 10000)."""


def transfer(token: TokenAddress, to: Address, amount: int) -> Interaction:
    """The settlement sends ``amount`` of ``token`` from its balance to ``to``."""
    return Interaction(Address(token), 0, TRANSFER + encode(["address", "uint256"], [to, amount]))


def uniswap_v2(leg: Leg, recipient: Address) -> tuple[Interaction, Interaction]:
    """Pay the pair, then have it send ``amount_out`` to ``recipient``."""
    pay = transfer(leg.token_in, leg.pool, leg.amount_in)
    token_out_is_0 = bytes.fromhex(leg.token_out[2:]) < bytes.fromhex(leg.token_in[2:])
    outs = (leg.amount_out, 0) if token_out_is_0 else (0, leg.amount_out)
    swap = Interaction(
        leg.pool,
        0,
        V2_SWAP + encode(["uint256", "uint256", "address", "bytes"], [*outs, recipient, b""]),
    )
    return pay, swap


def uniswap_v3(
    leg: Leg, router: Address, recipient: Address, deadline: int
) -> tuple[Interaction, Interaction]:
    """Approve ``router`` for exactly ``amount_in``, then ``exactInputSingle``."""
    if leg.fee <= 0:
        raise InteractionError(f"Uniswap V3 leg through {leg.pool} has no fee tier")
    approve = Interaction(
        Address(leg.token_in), 0, APPROVE + encode(["address", "uint256"], [router, leg.amount_in])
    )
    params = (
        leg.token_in,
        leg.token_out,
        leg.fee,
        recipient,
        deadline,
        leg.amount_in,
        leg.amount_out,
        0,  # no price limit: amountOutMinimum is the bound
    )
    swap = Interaction(
        router,
        0,
        V3_EXACT_INPUT_SINGLE
        + encode(["(address,address,uint24,address,uint256,uint256,uint256,uint160)"], [params]),
    )
    return approve, swap


def route_interactions(
    legs: Iterable[Leg],
    settlement: Address,
    *,
    v3_router: Address | None = None,
    deadline: int = 2**32 - 1,
) -> tuple[Interaction, ...]:
    """The interactions executing ``legs`` in order, every output back to ``settlement``."""
    interactions: list[Interaction] = []
    for leg in legs:
        if leg.amount_in <= 0 or leg.amount_out < 0:
            raise InteractionError(f"leg through {leg.pool} has a non-positive amount")
        if leg.kind is PoolKind.UNISWAP_V2:
            interactions.extend(uniswap_v2(leg, settlement))
        else:
            if v3_router is None:
                raise InteractionError("a Uniswap V3 leg needs the SwapRouter address")
            interactions.extend(uniswap_v3(leg, v3_router, settlement, deadline))
    return tuple(interactions)
