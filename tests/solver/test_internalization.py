"""Internalization (issue 11 item 5): CoW's rule for the ``internalize`` flag, our answers
on cases modelled on CoW's ``internalization.rs`` (trusted tokens, untrusted sell token,
no buffer), and the checks that refuse an interaction internalized against the rule."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routing.pool import PoolId, TokenAddress
from routing.route import Leg
from routing.uniswap_v2 import ConstantProductPool
from solver import dto
from solver.checks import Rejection, SolutionRejected, check_solution
from solver.dto_convert import auction_from_dto, solution_from_dto, solution_to_dto
from solver.engines import make_engine, solve_all
from solver.internalization import internalizable_legs
from solver.model import Auction, Solution, Token, Trade

# -- the rule --------------------------------------------------------------------------------

X = TokenAddress("0x" + "11" * 20)
Y = TokenAddress("0x" + "22" * 20)
Z = TokenAddress("0x" + "33" * 20)


def _tokens(**states: tuple[bool, int]) -> dict[TokenAddress, Token]:
    """Token name (x, y, z) -> (trusted, available balance)."""
    names = {"x": X, "y": Y, "z": Z}
    return {
        names[n]: Token(names[n], 18, None, 10**18, balance, trusted)
        for n, (trusted, balance) in states.items()
    }


def _leg(token_in: TokenAddress, token_out: TokenAddress, out: int, pool: str = "p") -> Leg:
    return Leg(PoolId(pool), token_in, token_out, 1000, out)


def test_trusted_input_and_enough_buffer_internalize() -> None:
    tokens = _tokens(x=(True, 0), y=(False, 500))
    # the output token need not be trusted; its buffer may be used up exactly
    assert internalizable_legs([_leg(X, Y, 500)], tokens) == {0}


def test_untrusted_input_is_never_internalized() -> None:
    tokens = _tokens(x=(False, 10**30), y=(True, 10**30))
    assert internalizable_legs([_leg(X, Y, 1)], tokens) == frozenset()


def test_a_buffer_one_short_is_not_enough() -> None:
    tokens = _tokens(x=(True, 0), y=(True, 499))
    assert internalizable_legs([_leg(X, Y, 500)], tokens) == frozenset()


def test_tokens_missing_from_the_auction_are_not_internalized() -> None:
    assert internalizable_legs([_leg(X, Z, 1)], _tokens(x=(True, 0))) == frozenset()
    assert internalizable_legs([_leg(Z, X, 1)], _tokens(x=(True, 10))) == frozenset()


def test_legs_draw_on_one_buffer_in_order() -> None:
    # 600 of Y: the first leg (400) fits, the second (300) would make 700, the third (200)
    # makes 600 again; a leg paying Z does not touch Y's buffer
    tokens = _tokens(x=(True, 0), y=(True, 600), z=(True, 50))
    legs = [_leg(X, Y, 400, "a"), _leg(X, Y, 300, "b"), _leg(X, Y, 200, "c"), _leg(Y, Z, 50)]
    assert internalizable_legs(legs, tokens) == {0, 2, 3}


@given(
    st.lists(
        st.tuples(st.sampled_from([X, Y, Z]), st.sampled_from([X, Y, Z]), st.integers(0, 100)),
        max_size=8,
    ),
    st.tuples(st.booleans(), st.booleans(), st.booleans()),
    st.tuples(st.integers(0, 300), st.integers(0, 300), st.integers(0, 300)),
)
def test_the_rule_is_cows_greedy_pass(
    legs_: list[tuple[TokenAddress, TokenAddress, int]],
    trusted: tuple[bool, bool, bool],
    balances: tuple[int, int, int],
) -> None:
    tokens = {
        t: Token(t, 18, None, None, b, tr)
        for t, tr, b in zip((X, Y, Z), trusted, balances, strict=True)
    }
    legs = [_leg(a, b, out) for a, b, out in legs_]
    chosen = internalizable_legs(legs, tokens)
    used = dict.fromkeys((X, Y, Z), 0)
    for i, leg in enumerate(legs):
        fits = used[leg.token_out] + leg.amount_out <= tokens[leg.token_out].available_balance
        # internalized exactly when the input is trusted and what is left of the buffer fits
        assert (i in chosen) == (tokens[leg.token_in].trusted and fits)
        if i in chosen:
            used[leg.token_out] += leg.amount_out
    for token, amount in used.items():
        assert amount <= tokens[token].available_balance


# -- cases modelled on CoW's internalization.rs ----------------------------------------------

WETH = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
COW = "0xDEf1CA1fb7FBcDC777520aa7f396b4E015F497aB"
# CoW's reference output of the WETH/COW pair for the 0.1337 WETH order (getAmountOut)
REFERENCE_OUTPUT = 6043910341261930467761


def _cow_case(weth_trusted: bool, cow_buffer: int) -> dict[str, Any]:
    """The facts of CoW's cases: a 0.1337 WETH -> >= 6000 COW sell order, one V2 pair, the
    settlement holding 1.412 WETH and ``cow_buffer`` COW; COW always trusted."""
    return {
        "id": "1",
        "tokens": {
            WETH: {
                "decimals": 18,
                "symbol": "WETH",
                "referencePrice": str(10**18),
                "availableBalance": "1412206645170290748",
                "trusted": weth_trusted,
            },
            COW: {
                "decimals": 18,
                "symbol": "COW",
                "referencePrice": "53125132573502",
                "availableBalance": str(cow_buffer),
                "trusted": True,
            },
        },
        "orders": [
            {
                "uid": "0x" + "2a" * 56,
                "sellToken": WETH,
                "buyToken": COW,
                "sellAmount": "133700000000000000",
                "fullSellAmount": "133700000000000000",
                "buyAmount": "6000000000000000000000",
                "fullBuyAmount": "6000000000000000000000",
                "feePolicies": [],
                "validTo": 0,
                "kind": "sell",
                "owner": "0x5b1e2c2762667331bc91648052f646d1b0d35984",
                "partiallyFillable": False,
                "preInteractions": [],
                "postInteractions": [],
                "sellTokenSource": "erc20",
                "buyTokenDestination": "erc20",
                "class": "market",
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
                "address": "0x97b744df0b59d93A866304f97431D8EfAd29a08d",
                "router": "0x7a250d5630b4cf539739df2c5dacb4c659f2488d",
                "gasEstimate": "110000",
            }
        ],
        "effectiveGasPrice": "15000000000",
        "deadline": (datetime.now(UTC) + timedelta(seconds=20)).isoformat(),
        "surplusCapturingJitOrderOwners": [],
    }


@pytest.mark.parametrize(
    ("weth_trusted", "cow_buffer", "internalize"),
    [
        (True, 78402641384835564507389, True),  # CoW's `trusted_token`
        (False, 78402641384835564507389, False),  # CoW's `untrusted_sell_token`
        (True, 0, False),  # CoW's `insufficient_balance`
    ],
)
def test_flags_match_cows_reference(weth_trusted: bool, cow_buffer: int, internalize: bool) -> None:
    auction = auction_from_dto(dto.decode_auction(json.dumps(_cow_case(weth_trusted, cow_buffer))))
    solutions = solve_all([make_engine("baseline")], auction)
    assert len(solutions) == 1
    check_solution(auction, solutions[0], solver="baseline")
    orders = {o.uid: o for o in auction.orders}
    wire = solution_to_dto(solutions[0], orders)
    [interaction] = wire.interactions
    assert isinstance(interaction, dto.LiquidityInteraction)
    assert int(interaction.output_amount) == REFERENCE_OUTPUT
    assert interaction.internalize is internalize


# -- checks ----------------------------------------------------------------------------------


def _sold_through_pair(weth_trusted: bool, cow_buffer: int) -> tuple[Auction, Solution]:
    """The CoW case's auction, and its one-leg solution internalized whatever the rule."""
    auction = auction_from_dto(dto.decode_auction(json.dumps(_cow_case(weth_trusted, cow_buffer))))
    weth, cow = TokenAddress(WETH.lower()), TokenAddress(COW.lower())
    leg = Leg(PoolId("0"), weth, cow, 133700000000000000, REFERENCE_OUTPUT)
    solution = Solution(
        id=0,
        prices={weth: REFERENCE_OUTPUT, cow: 133700000000000000},
        trades=(Trade(auction.orders[0].uid, 133700000000000000),),
        legs=(leg,),
        gas=166391,
        internalized=frozenset({0}),
    )
    return auction, solution


def _code(auction: Auction, solution: Solution) -> Rejection:
    with pytest.raises(SolutionRejected) as info:
        check_solution(auction, solution, solver="external")
    assert info.value.message
    return info.value.code


def test_a_rightly_internalized_solution_passes() -> None:
    check_solution(*_sold_through_pair(True, REFERENCE_OUTPUT), solver="external")


def test_internalizing_an_untrusted_input_is_rejected() -> None:
    assert _code(*_sold_through_pair(False, 10**30)) is Rejection.NON_BUFFERABLE_TOKENS_USED


def test_internalizing_beyond_the_buffer_is_rejected() -> None:
    assert _code(*_sold_through_pair(True, REFERENCE_OUTPUT - 1)) is Rejection.INSUFFICIENT_BUFFER


def test_internalized_legs_are_judged_together() -> None:
    # the order's 0.1337 WETH swapped in two legs through the pair: each leg's output fits
    # in the COW buffer alone, both together do not
    auction, one = _sold_through_pair(True, 0)
    pool = auction.liquidity.pools[0]
    assert isinstance(pool, ConstantProductPool)
    weth, cow = one.legs[0].token_in, one.legs[0].token_out
    half = 133700000000000000 // 2
    out1 = pool.amount_out(weth, cow, half)
    moved = [half if t == weth else -out1 for t in pool.tokens]
    after = dataclasses.replace(
        pool, reserves=(pool.reserves[0] + moved[0], pool.reserves[1] + moved[1])
    )
    rest = 133700000000000000 - half
    out2 = after.amount_out(weth, cow, rest)
    assert out2 < out1  # so a buffer of out1 covers either leg alone
    legs = (Leg(pool.id, weth, cow, half, out1), Leg(pool.id, weth, cow, rest, out2))
    prices = {weth: out1 + out2, cow: 133700000000000000}
    two = dataclasses.replace(one, prices=prices, legs=legs, internalized=frozenset({0, 1}))
    tokens = dict(auction.tokens)
    tokens[cow] = dataclasses.replace(tokens[cow], available_balance=out1)
    enough_for_one = dataclasses.replace(auction, tokens=MappingProxyType(tokens))
    assert _code(enough_for_one, two) is Rejection.INSUFFICIENT_BUFFER
    # as the rule decides it: only the first leg, and that passes
    decided = dataclasses.replace(two, internalized=internalizable_legs(legs, tokens))
    assert decided.internalized == {0}
    check_solution(enough_for_one, decided, solver="external")


def test_an_external_solvers_flags_reach_the_checks() -> None:
    auction, solution = _sold_through_pair(False, 10**30)
    orders = {o.uid: o for o in auction.orders}
    decoded = solution_from_dto(solution_to_dto(solution, orders), engine="external")
    assert decoded.internalized == {0}
    assert _code(auction, decoded) is Rejection.NON_BUFFERABLE_TOKENS_USED


def test_unknown_tokens_have_no_buffer() -> None:
    auction, solution = _sold_through_pair(True, 10**30)
    tokens = {t: v for t, v in auction.tokens.items() if t != TokenAddress(COW.lower())}
    auction = dataclasses.replace(auction, tokens=MappingProxyType(tokens))
    assert _code(auction, solution) is Rejection.INSUFFICIENT_BUFFER
