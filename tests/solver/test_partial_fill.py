"""Partial fills take the amount that gives the user the most surplus over the limit price
(CIP-38's score), not the largest amount the limit price allows."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from intents.order import OrderClass, OrderKind
from solver.auction_file import load_auction
from solver.checks import check_solution
from solver.engines import make_engine
from solver.model import SETTLEMENT_OVERHEAD_GAS, Order, gas_fee, now
from solver.scoring import score_trades
from tests.solver.engine_fixtures import (
    GAS_PRICE,
    PRICES,
    A,
    B,
    model_auction,
    order,
    pool,
)

E18 = 10**18
WETH = "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"
COW = "0xdef1ca1fb7fbcdc777520aa7f396b4e015f497ab"
POOL_GAS = 90_000
"""``engine_fixtures.pool``'s gas per swap."""


def _cow_partial_fill_auction() -> bytes:
    """CoW's baseline ``partial_fill`` case: sell up to 1 WETH for at least 40000 COW per
    WETH, partially fillable, ``limit`` class, against one WETH/COW constant-product pool."""
    doc = {
        "id": "1",
        "tokens": {
            WETH: {
                "decimals": 18,
                "symbol": "WETH",
                "referencePrice": str(E18),
                "availableBalance": "1412206645170290748",
                "trusted": True,
            },
            COW: {
                "decimals": 18,
                "symbol": "COW",
                "referencePrice": "53125132573502",
                "availableBalance": "740264138483556450389",
                "trusted": True,
            },
        },
        "orders": [
            {
                "uid": "0x" + "2a" * 56,
                "sellToken": WETH,
                "buyToken": COW,
                "sellAmount": str(E18),
                "fullSellAmount": str(E18),
                "buyAmount": str(40_000 * E18),
                "fullBuyAmount": str(40_000 * E18),
                "feePolicies": [],
                "validTo": 0,
                "kind": "sell",
                "owner": "0x5b1e2c2762667331bc91648052f646d1b0d35984",
                "partiallyFillable": True,
                "preInteractions": [],
                "postInteractions": [],
                "sellTokenSource": "erc20",
                "buyTokenDestination": "erc20",
                "class": "limit",
                "appData": "0x" + "00" * 32,
                "signingScheme": "presign",
                "signature": "0x",
            }
        ],
        "liquidity": [
            {
                "kind": "constantProduct",
                "tokens": {
                    WETH: {"balance": "3828187314911751990"},
                    COW: {"balance": "179617892578796375604692"},
                },
                "fee": "0.003",
                "id": "0",
                "address": "0x97b744df0b59d93a866304f97431d8efad29a08d",
                "router": "0x7a250d5630b4cf539739df2c5dacb4c659f2488d",
                "gasEstimate": "110000",
            }
        ],
        "effectiveGasPrice": "15000000000",
        "deadline": (now() + timedelta(seconds=30)).isoformat().replace("+00:00", "Z"),
        "surplusCapturingJitOrderOwners": [],
    }
    return json.dumps(doc).encode()


REFERENCE_SURPLUS = 594_870 * 10**15
"""CoW's baseline on that case sells 0.5 WETH + 0.002495865 WETH fee for
20694.705425542464884657 COW: 594.87 COW over the 20099.8346 COW the limit asks."""


@pytest.mark.parametrize("engine", ["baseline", "optimal"])
def test_cow_partial_fill_case_gives_the_user_at_least_the_reference_surplus(
    engine: str,
) -> None:
    auction_ = load_auction(_cow_partial_fill_auction(), now() + timedelta(seconds=30))
    (solution,) = make_engine(engine).solve(auction_)
    (checked,) = check_solution(auction_, solution, solver=engine)  # limit, pools, prices
    o = checked.order
    assert checked.paid * o.signed_buy_amount <= checked.bought * o.signed_sell_amount
    user_surplus = checked.bought - -(-checked.paid * o.signed_buy_amount // o.signed_sell_amount)
    assert user_surplus >= REFERENCE_SURPLUS
    assert checked.paid < o.remaining  # a partial fill: all of it would break the limit
    assert score_trades([checked], auction_).total == user_surplus * 53125132573502 // E18


def _out(r_in: int, r_out: int, x: int) -> int:
    """Uniswap V2's output for ``x`` in (0.3% fee), written out independently."""
    return x * 997 * r_out // (r_in * 1000 + x * 997)


def _in(r_in: int, r_out: int, y: int) -> int | None:
    """Uniswap V2's input for ``y`` out, or ``None`` beyond the reserve."""
    if y >= r_out:
        return None
    return r_in * y * 1000 // ((r_out - y) * 997) + 1


def _fee(o: Order) -> int:
    if o.order_class is not OrderClass.LIMIT:
        return 0
    fee = gas_fee(SETTLEMENT_OVERHEAD_GAS + POOL_GAS, GAS_PRICE, PRICES[o.sell_token])
    assert fee is not None
    return fee


def _surplus(o: Order, amount: int, r_in: int, r_out: int) -> int | None:
    """The user's surplus over the limit when ``amount`` (sell: paid, fee included; buy:
    bought) goes through the pool, ``None`` where the limit breaks or nothing routes."""
    fee = _fee(o)
    if o.kind is OrderKind.SELL:
        if amount <= fee:
            return None
        bought = _out(r_in, r_out, amount - fee)
        value = bought - -(-amount * o.signed_buy_amount // o.signed_sell_amount)
    else:
        paid_in = _in(r_in, r_out, amount)
        if paid_in is None:
            return None
        value = o.signed_sell_amount * amount // o.signed_buy_amount - (paid_in + fee)
    return value if value >= 0 else None


GRID = 400


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    reserve_a=st.integers(10, 10_000),
    rate=st.integers(10, 2_000),
    size=st.integers(1, 5_000),
    discount=st.integers(1, 3_000),
    is_sell=st.booleans(),
    is_limit=st.booleans(),
)
# the feasible buy amounts all lie between the ladder's first two rungs (price impact
# breaks the limit above, the fee below): the search must look between them
@example(reserve_a=160, rate=10, size=9, discount=132, is_sell=False, is_limit=True)
def test_partial_fill_takes_the_best_surplus_on_a_grid(
    reserve_a: int, rate: int, size: int, discount: int, is_sell: bool, is_limit: bool
) -> None:
    """Over random pools and partially fillable limits below the spot rate, the engine's
    amount gives within a small tolerance of the best surplus over a grid of amounts."""
    # B per A in [0.1, 20]: within the price-sanity band around the reference rate 2
    r_a = reserve_a * E18
    r_b = r_a * rate // 100
    p = pool("ab", A, B, r_a, r_b)
    spot = r_b / r_a  # B per A
    sell_amount = size * E18 // 10
    limit_buy = int(sell_amount * spot * (1 - discount / 10_000))
    kind = OrderKind.SELL if is_sell else OrderKind.BUY
    cls = OrderClass.LIMIT if is_limit else OrderClass.MARKET
    o = order(A, B, sell_amount, max(limit_buy, 1), kind, partial=True, order_class=cls)
    grid = [o.remaining * k // GRID for k in range(1, GRID + 1)]
    values = [v for x in grid if (v := _surplus(o, x, r_a, r_b)) is not None]
    # a market order's gas is the solver's cost: the screen drops one whose surplus cannot
    # pay it (tests/solver/test_workers.py), which this property is not about
    gas_price = GAS_PRICE if is_limit else 0
    market = model_auction([o], [p], PRICES, gas_price, now() + timedelta(seconds=60))
    solutions = make_engine("baseline").solve(market)
    if not values:  # nothing on the grid fills: the engine may still find a sliver
        for s in solutions:
            assert check_solution(market, s, solver="t")
        return
    (solution,) = solutions
    (checked,) = check_solution(market, solution, solver="t")
    (trade,) = solution.trades
    amount = trade.executed + trade.fee if is_sell else trade.executed
    chosen = _surplus(o, amount, r_a, r_b)
    assert chosen is not None  # the limit holds (recomputed independently)
    assert checked.paid * o.signed_buy_amount <= checked.bought * o.signed_sell_amount
    best = max(values)
    # the grid's step costs at most a step's worth of curvature; allow a small share
    assert chosen >= best - max(best // 200, 2 * 10**12)
