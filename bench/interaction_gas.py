"""Gas per settlement part, measured on the devnet with the published contracts, and the
gas ``solver.model.settlement_gas`` declares for the same settlements against their receipts.

On a fresh devnet (anvil, GPv2Settlement, Uniswap V2 and V3), each case is settled from
the same snapshot and its receipt's ``gasUsed`` read:

- ``buffer xN``: N eip712 sell orders TKA<->TKB (alternating) paid from the settlement's
  buffer, no interaction. ``TRADE`` = gas(2) - gas(1); ``BASE`` = gas(1) - ``TRADE`` (the
  transaction's 21,000, calldata outside the trades, ``isSolver``, the call frame).
- ``v2`` / ``v3``: one order selling TKA for TKC, its proceeds bought through one
  Uniswap V2 pair (transfer + ``swap``) or one V3 pool (exact ``approve`` + the
  SwapRouter's ``exactInputSingle``). The interaction's cost = gas(case) - gas(buffer x1).
- ``v2 x2``: two orders selling TKA for TKC through one V2 leg (a two-trade settlement).

Tokens are the devnet's OpenZeppelin ERC-20s, the buy-token balances of the traders start
at zero (so a payout writes a fresh slot), and the settlement holds no TKC (the pool's
output lands in an empty slot and leaves it empty, which refunds). Balancer is not
deployed on the devnet: its kinds keep CoW's figures (``routing.interaction_gas``).

    python -m bench.interaction_gas
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

from bench.settlement_gas import fund_buffer, measure, signed_sell
from devnet.anvil import Devnet, Tx
from devnet.gpv2 import deploy_gpv2
from devnet.uniswap import (
    V2_PAIR,
    V2_ROUTER,
    V3_QUOTER,
    UniswapV2,
    UniswapV3,
    add_v3_position,
    age_v2_pairs,
    create_v2_pair,
    create_v3_pool,
    deploy_uniswap_v2,
    deploy_uniswap_v3,
)
from devnet.uniswap import mint as mint_token
from intents.types import Address, TokenAddress
from routing.interaction_gas import UNISWAP_V2_GAS, UNISWAP_V3_GAS, V2_AGAIN_GAS, V3_AGAIN_GAS
from settlement.deployment import Deployment
from settlement.encoding import Settlement, Trade, token_indices
from settlement.interactions import Leg, PoolKind, route_interactions
from solver.model import SETTLEMENT_BASE_GAS, TRADE_GAS, settlement_gas

SELL = 10 * 10**18
RESERVE = 1000 * 10**18
V3_FEE = 3000


@dataclass(frozen=True, slots=True)
class Pools:
    """The AMMs the cases route through: a TKA/TKC V2 pair and a TKA/TKC V3 pool."""

    v2: UniswapV2
    v3: UniswapV3
    pair: Address
    pool: Address


@dataclass(frozen=True, slots=True)
class Case:
    """One settled case: its name, the gas the model declares and the receipt's gasUsed."""

    name: str
    trades: int
    declared: int
    measured: int

    @property
    def error(self) -> float:
        """Declared relative to measured: +0.05 is a 5% over-estimate."""
        return self.declared / self.measured - 1


def deploy_pools(
    node: Devnet, devnet: Deployment, v2: UniswapV2 | None = None, v3: UniswapV3 | None = None
) -> Pools:
    """One TKA/TKC pool each on Uniswap V2 and V3 (deployed unless given), deep enough
    for the cases."""
    a, c = devnet.tokens["TKA"], devnet.tokens["TKC"]
    v2 = v2 or deploy_uniswap_v2(node, devnet.weth)
    v3 = v3 or deploy_uniswap_v3(node, devnet.weth)
    for token in (a, c):
        mint_token(node, token, devnet.deployer.address, 3 * RESERVE)
    pair = create_v2_pair(node, v2, a, c, RESERVE, RESERVE)
    pool = create_v3_pool(node, v3, a, c, V3_FEE, 2**96)
    add_v3_position(node, v3, a, c, V3_FEE, -6000, 6000, RESERVE, RESERVE)
    age_v2_pairs(node, [pair], devnet.deployer.address)  # as on a pair that has traded
    return Pools(v2=v2, v3=v3, pair=pair, pool=pool)


def _v2_reserves(node: Devnet, pools: Pools, token_in: str) -> tuple[int, int]:
    r0, r1, _ = node.call(V2_PAIR, pools.pair, "getReserves")
    (token0,) = node.call(V2_PAIR, pools.pair, "token0")
    return (int(r0), int(r1)) if token_in.lower() == token0.lower() else (int(r1), int(r0))


def _v3_out(node: Devnet, pools: Pools, token_in: str, token_out: str, amount_in: int) -> int:
    params = (token_in, token_out, amount_in, V3_FEE, 0)
    out, *_ = node.call(V3_QUOTER, pools.v3.quoter, "quoteExactInputSingle", params)
    return int(out)


def _sell_trades(
    node: Devnet, devnet: Deployment, tokens: tuple[TokenAddress, ...], sells: Sequence[int]
) -> list[Trade]:
    """Fill-or-kill eip712 sell orders TKA->TKC, one per amount, from distinct traders."""
    a, c = devnet.tokens["TKA"], devnet.tokens["TKC"]
    valid_to = int(node.w3.eth.get_block("latest")["timestamp"]) + 3600
    index = token_indices(tokens)
    trades = []
    for i, amount in enumerate(sells):
        trader = devnet.accounts[2 + i]
        trades.append(signed_sell(devnet, trader, a, c, amount, 1, valid_to, index))
    return trades


def _legs(
    node: Devnet,
    pools: Pools,
    kind: PoolKind,
    a: TokenAddress,
    c: TokenAddress,
    total: int,
    count: int,
) -> list[Leg]:
    """``total`` of TKA swapped for TKC through the one pool of ``kind`` in ``count`` equal
    legs one after the other. A V2 leg takes what the pair pays after the legs before it;
    a V3 leg after the first asks for at least 1 (its exact output is not quoted on the
    state the earlier legs leave; the settlement keeps what it pays beyond)."""
    parts = [total // count] * (count - 1)
    parts.append(total - sum(parts))
    if kind is PoolKind.UNISWAP_V2:
        legs, (r_in, r_out) = [], _v2_reserves(node, pools, a)
        for part in parts:
            (out,) = node.call(V2_ROUTER, pools.v2.router, "getAmountOut", part, r_in, r_out)
            legs.append(Leg(kind, pools.pair, a, c, part, int(out)))
            r_in, r_out = r_in + part, r_out - int(out)
        return legs
    first, *rest = parts
    out = _v3_out(node, pools, a, c, first)
    return [Leg(kind, pools.pool, a, c, first, out, fee=V3_FEE)] + [
        Leg(kind, pools.pool, a, c, part, 1, fee=V3_FEE) for part in rest
    ]


def routed_gas(
    node: Devnet,
    devnet: Deployment,
    pools: Pools,
    kind: PoolKind,
    sells: Sequence[int],
    legs: int = 1,
) -> int:
    """gasUsed of one settlement of TKA->TKC orders selling ``sells``, their summed input
    swapped through the pool of ``kind`` in ``legs`` legs; the chain state is left as it
    was."""
    a, c = devnet.tokens["TKA"], devnet.tokens["TKC"]
    swaps = _legs(node, pools, kind, a, c, sum(sells), legs)
    tokens = (a, c)
    settlement = Settlement(
        tokens=tokens,
        # every order gets the legs' rate, rounded down: the settlement keeps the dust
        clearing_prices=(sum(s.amount_out for s in swaps), sum(s.amount_in for s in swaps)),
        trades=tuple(_sell_trades(node, devnet, tokens, sells)),
        intra=route_interactions(swaps, devnet.settlement, v3_router=pools.v3.router),
    )
    snapshot = node.snapshot()
    tx = Tx(
        devnet.solver.address,
        settlement.calldata(),
        to=devnet.settlement,
        gas=15_000_000,
        what="settle",
    )
    [receipt] = node.send([tx])
    node.revert(snapshot)
    return int(receipt["gasUsed"], 16)


@dataclass(frozen=True, slots=True)
class Measured:
    """The parts, from receipts: shared base, per trade, per V2 and per V3 interaction."""

    base: int
    trade: int
    uniswap_v2: int
    uniswap_v3: int
    v2_again: int
    """Each further leg through a V2 pair the settlement already swapped (warm storage)."""
    v3_again: int
    cases: tuple[Case, ...]


def measure_all(node: Devnet, devnet: Deployment, pools: Pools) -> Measured:
    """Settle every case; the parts and each case's declared gas against its receipt."""
    one, _ = measure(node, devnet, 1)
    two, _ = measure(node, devnet, 2)
    v2 = routed_gas(node, devnet, pools, PoolKind.UNISWAP_V2, [SELL])
    v3 = routed_gas(node, devnet, pools, PoolKind.UNISWAP_V3, [SELL])
    v2_two = routed_gas(node, devnet, pools, PoolKind.UNISWAP_V2, [SELL, SELL // 2])
    v2_again = routed_gas(node, devnet, pools, PoolKind.UNISWAP_V2, [SELL], legs=3)
    v3_again = routed_gas(node, devnet, pools, PoolKind.UNISWAP_V3, [SELL], legs=3)
    trade = two - one
    cases = (
        Case("buffer x1", 1, settlement_gas(1, 0), one),
        Case("buffer x2", 2, settlement_gas(2, 0), two),
        Case("v2 x1", 1, settlement_gas(1, UNISWAP_V2_GAS), v2),
        Case("v3 x1", 1, settlement_gas(1, UNISWAP_V3_GAS), v3),
        Case("v2 x2", 2, settlement_gas(2, UNISWAP_V2_GAS), v2_two),
        Case("v2 x1, 3 legs", 1, settlement_gas(1, UNISWAP_V2_GAS + 2 * V2_AGAIN_GAS), v2_again),
        Case("v3 x1, 3 legs", 1, settlement_gas(1, UNISWAP_V3_GAS + 2 * V3_AGAIN_GAS), v3_again),
    )
    return Measured(
        base=one - trade,
        trade=trade,
        uniswap_v2=v2 - one,
        uniswap_v3=v3 - one,
        v2_again=(v2_again - v2) // 2,
        v3_again=(v3_again - v3) // 2,
        cases=cases,
    )


def new_devnet(node: Devnet) -> tuple[Deployment, Pools]:
    """GPv2 with a TKA/TKB buffer, and the pools."""
    devnet = deploy_gpv2(node)
    fund_buffer(node, devnet)
    return devnet, deploy_pools(node, devnet)


def report(measured: Measured) -> list[str]:
    """Markdown: the measured parts next to the constants, then declared vs receipt."""
    lines = [
        "| part | measured | constant in use |",
        "|---|---:|---:|",
        f"| settlement base | {measured.base:,} | {SETTLEMENT_BASE_GAS:,} |",
        f"| per trade | {measured.trade:,} | {TRADE_GAS:,} |",
        f"| Uniswap V2 interaction | {measured.uniswap_v2:,} | {UNISWAP_V2_GAS:,} |",
        f"| Uniswap V3 interaction | {measured.uniswap_v3:,} | {UNISWAP_V3_GAS:,} |",
        f"| V2 pair swapped again | {measured.v2_again:,} | {V2_AGAIN_GAS:,} |",
        f"| V3 pool swapped again | {measured.v3_again:,} | {V3_AGAIN_GAS:,} |",
        "",
        "| case | trades | declared | receipt gasUsed | declared vs receipt |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {c.name} | {c.trades} | {c.declared:,} | {c.measured:,} | {100 * c.error:+.1f}% |"
        for c in measured.cases
    ]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench interaction_gas", description=__doc__)
    parser.parse_args(argv)
    with Devnet() as node:
        devnet, pools = new_devnet(node)
        print("\n".join(report(measure_all(node, devnet, pools))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
