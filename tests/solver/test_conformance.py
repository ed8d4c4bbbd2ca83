"""Conformance with CoW's baseline solver (``tests/solver/conformance/``, ``bench.conformance``):
each case's auction is posted over real HTTP to the solve-engine app with the engine
``tributary solve-engine`` runs by default, and passes when every order the reference fills
is filled by one of our solutions with at least the reference's surplus for the user, every
solution we return passes ``solver.checks``, and our ``internalize`` flags equal the
reference's on the interactions both use. Where we are better, the measured margin is a
floor, so a regression fails. Cases that fail today are strict xfails naming the item of
issue 11 that fixes them."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bench.conformance import (
    CASES_DIR,
    Case,
    CaseError,
    CaseResult,
    compare,
    load_cases,
    run_cases,
    solve_engine_set,
)
from solver.solve_api import make_app

TIME_LIMIT_S = 10.0

BETTER_BY_AT_LEAST = {
    # we sell 4,801,599 wei of xCOW less than the reference for the same 1 wxDAI (measured
    # 2026-12-07: 15503270361047284390 against 15503270361052085989)
    "buy_order_rounding_weighted_two_hops": {"0x" + "00" * 56: 4_801_599},
}
"""Case -> order -> the user's surplus over the reference's, in the surplus token."""

ISSUE_11 = {
    1: "Balancer buy-order rounding (bump the input until the exact output covers the order)",
    2: "a limit order's fee in an unpriced sell token, priced by routing from the native token",
    3: "a partial fill maximizing the score, not the filled amount",
    4: "a coincidence of wants between limit orders sharing one settlement overhead",
    5: "internalize flags (trusted input token, the buffer covers the output)",
    6: "gas accounting measured on the devnet",
}
"""The fixes of issue 11, by item number."""

FAILING_TODAY: dict[str, tuple[int, ...]] = {}
"""Case -> the items of issue 11 whose fixes it waits for (all of them, before it passes).
Drop an item when its fix merges; drop the case once no item is left."""


def xfail_reason(items: tuple[int, ...]) -> str:
    """``issue 11 item 1: ...`` or ``issue 11 items 1, 2: ...; ...``."""
    numbers = ", ".join(str(n) for n in items)
    label = "item" if len(items) == 1 else "items"
    return f"issue 11 {label} {numbers}: " + "; ".join(ISSUE_11[n] for n in items)


CASES = load_cases()


def _param(case: Case) -> object:
    items = FAILING_TODAY.get(case.name)
    marks = [pytest.mark.xfail(strict=True, reason=xfail_reason(items))] if items else []
    return pytest.param(case, id=case.name, marks=marks)


def test_every_reference_behaviour_is_a_case() -> None:
    """CoW's six case files hold 17 tests; each is one case file here."""
    assert len(CASES) == 17
    assert {path.stem for path in CASES_DIR.glob("*.json")} == {c.name for c in CASES}
    assert set(FAILING_TODAY) | set(BETTER_BY_AT_LEAST) <= {c.name for c in CASES}
    assert all(items and set(items) <= set(ISSUE_11) for items in FAILING_TODAY.values())


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    app = make_app(solve_engine_set())
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def _result(client: TestClient, case: Case) -> CaseResult:  # type: ignore[type-arg]
    async def post(body: bytes) -> tuple[int, bytes]:
        response = await client.post(
            "/solve", data=body, headers={"Content-Type": "application/json"}
        )
        return response.status, await response.read()

    (result,) = await run_cases([case], post, TIME_LIMIT_S)
    return result


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
async def test_case(client: TestClient, case: Case) -> None:  # type: ignore[type-arg]
    result = await _result(client, case)
    assert result.invalid == ()
    assert result.orders, "the reference fills at least one order"
    floors = BETTER_BY_AT_LEAST.get(case.name, {})
    for order in result.orders:
        assert order.our_surplus is not None, f"no solution of ours fills {order.uid}"
        assert order.our_surplus >= order.reference_surplus + floors.get(order.uid, 0), order
        assert order.internalize_match is not False, f"internalize flags differ on {order.uid}"
    assert result.verdict in ("equal", "better")


def test_a_stored_surplus_that_scoring_does_not_compute_is_a_broken_case() -> None:
    """The stored figures are checked against ``solver.scoring`` on the reference itself:
    answering a case with its own reference is ``equal``, and a case whose stored surplus
    is one unit off is refused."""
    case = next(c for c in CASES if c.name == "sell_constant_product_direct")
    reference = json.dumps(case.reference).encode()
    assert compare(case, reference).verdict == "equal"
    solutions = copy.deepcopy(case.reference["solutions"])
    trade = solutions[0]["trades"][0]
    trade["surplus"] = str(int(trade["surplus"]) + 1)
    tampered = dataclasses.replace(case, reference={"solutions": solutions})
    with pytest.raises(CaseError, match="stored surplus"):
        compare(tampered, reference)


def _answer(case: Case, edit: Callable[[dict[str, Any]], None]) -> bytes:
    """The case's reference as an answer body, with ``edit`` applied to its one solution."""
    solutions = copy.deepcopy(case.reference["solutions"])
    edit(solutions[0])
    return json.dumps({"solutions": solutions}).encode()


DIRECT = next(c for c in CASES if c.name == "sell_constant_product_direct")
WETH = "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"


def _weth_price(delta: int) -> Callable[[dict[str, Any]], None]:
    def edit(solution: dict[str, Any]) -> None:
        solution["prices"][WETH] = str(int(solution["prices"][WETH]) + delta)

    return edit


def test_an_answer_giving_the_user_less_is_worse_by_exactly_that() -> None:
    """Lowering the sell token's clearing price by 1000 gives the user (who sells exactly
    the sell token's price in units: executedAmount equals COW's price) 1000 wei of COW
    less, which the settlement keeps: still valid, and worse by 1000."""
    (order,) = compare(DIRECT, _answer(DIRECT, _weth_price(-1000))).orders
    assert order.verdict == "worse"
    assert order.our_surplus == order.reference_surplus - 1000


def test_an_answer_paying_out_more_than_the_pool_gives_is_invalid() -> None:
    result = compare(DIRECT, _answer(DIRECT, _weth_price(+1000)))
    assert result.verdict == "invalid"
    assert len(result.invalid) == 1 and "TokenDeficit" in result.invalid[0], result.invalid


def test_no_solution_filling_the_order_is_no_answer() -> None:
    result = compare(DIRECT, b'{"solutions": []}')
    assert (result.verdict, result.solutions) == ("no answer", 0)
    assert result.orders[0].our_surplus is None


def test_a_flipped_internalize_flag_on_a_shared_interaction_is_a_mismatch() -> None:
    """The reference internalizes (trusted input, buffer enough); ours does not."""
    trusted = next(c for c in CASES if c.name == "internalize_trusted_tokens")

    def settle_through_the_pool(solution: dict[str, Any]) -> None:
        assert solution["interactions"][0]["internalize"] is True
        solution["interactions"][0]["internalize"] = False

    (order,) = compare(trusted, _answer(trusted, settle_through_the_pool)).orders
    assert (order.verdict, order.internalize_match) == ("equal", False)
