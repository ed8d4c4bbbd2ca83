"""The solver-engine HTTP API: /solve answers a CoW auction with exact solutions, /notify
logs and answers 204, malformed bodies get the orderbook's error shape."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from solver import dto
from solver.engines import make_engine
from solver.solve_api import SolveApiSettings, make_app
from tests.solver.engine_fixtures import A, B

E18 = 10**18
UID = "0x" + "12" * 32 + "0e" * 20 + "ffffffff"


def _auction(auction_changes: dict[str, Any] | None = None, **order_changes: Any) -> dict[str, Any]:
    deadline = datetime.now(UTC) + timedelta(seconds=30)
    order = {
        "uid": UID,
        "sellToken": A,
        "buyToken": B,
        "sellAmount": str(10 * E18),
        "fullSellAmount": str(10 * E18),
        "buyAmount": str(19 * E18),
        "fullBuyAmount": str(19 * E18),
        "validTo": 4294967295,
        "kind": "sell",
        "owner": "0x" + "0e" * 20,
        "partiallyFillable": False,
        "preInteractions": [],
        "postInteractions": [],
        "sellTokenSource": "erc20",
        "buyTokenDestination": "erc20",
        "class": "limit",
        "appData": "0x" + "00" * 32,
        "signingScheme": "eip712",
        "signature": "0x" + "00" * 65,
    } | order_changes
    token = {"decimals": 18, "symbol": None, "availableBalance": "0", "trusted": True}
    return {
        "id": "42",
        "tokens": {
            A: token | {"referencePrice": str(E18)},
            B: token | {"referencePrice": str(E18 // 2)},
        },
        "orders": [order],
        "liquidity": [
            {
                "kind": "constantProduct",
                "id": "7",
                "address": "0x" + "77" * 20,
                "router": "0x" + "88" * 20,
                "gasEstimate": "90000",
                "tokens": {A: {"balance": str(1000 * E18)}, B: {"balance": str(2000 * E18)}},
                "fee": "0.003",
            }
        ],
        "effectiveGasPrice": "20000000000",
        "deadline": deadline.isoformat().replace("+00:00", "Z"),
        "surplusCapturingJitOrderOwners": [],
    } | (auction_changes or {})


@pytest.fixture
async def client() -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    app = make_app([make_engine("baseline"), make_engine("optimal")])
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_solve_returns_exact_solutions(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.post("/solve", data=json.dumps(_auction()))
    assert response.status == 200
    body = dto.decode_solver_response(await response.read())
    assert [s.id for s in body.solutions] == [0, 1]  # one per engine, numbered uniquely
    for solution in body.solutions:
        (trade,) = solution.trades
        assert isinstance(trade, dto.Fulfillment) and trade.order == UID
        assert trade.fee is not None and trade.fee > 0  # a limit order pays its gas
        assert trade.executed_amount + trade.fee == 10 * E18
        (swap,) = solution.interactions
        assert isinstance(swap, dto.LiquidityInteraction) and swap.id == "7"
        assert swap.input_amount == trade.executed_amount
        # the clearing prices pay out exactly what the pool returns
        assert solution.prices == {A: swap.output_amount, B: trade.executed_amount}
        assert swap.output_amount * 10 * E18 >= 19 * E18 * (trade.executed_amount + trade.fee)


async def test_third_party_auctions_are_solved(client: TestClient) -> None:  # type: ignore[type-arg]
    """A non-numeric id, an order's ``feeAmount`` and fields of a newer driver decode."""
    doc = _auction(
        {"id": "bench-0001", "protocolVersion": "9", "solverAddress": "0x" + "ee" * 20},
        feeAmount="0",
        quoteId=17,
    )
    response = await client.post("/solve", data=json.dumps(doc))
    assert response.status == 200
    assert len(dto.decode_solver_response(await response.read()).solutions) == 2


async def test_market_trades_carry_no_fee_field(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.post("/solve", data=json.dumps(_auction(**{"class": "market"})))
    assert response.status == 200
    solutions = json.loads(await response.read())["solutions"]
    assert solutions
    for solution in solutions:
        (trade,) = solution["trades"]
        assert set(trade) == {"kind", "order", "executedAmount"}
        assert int(trade["executedAmount"]) == 10 * E18


async def test_orders_with_wrappers_are_left_alone(client: TestClient) -> None:  # type: ignore[type-arg]
    wrappers = [{"address": "0x" + "ab" * 20, "data": "0x1234"}]
    response = await client.post("/solve", data=json.dumps(_auction(wrappers=wrappers)))
    assert response.status == 200
    assert json.loads(await response.read()) == {"solutions": []}


class _Faulty:
    """An engine with a bug: it raises ``ValueError`` on every auction."""

    name = "faulty"

    def solve(self, auction: object) -> list[object]:
        raise ValueError("a bug inside an engine, not a bad auction")


async def test_an_engine_error_is_not_an_invalid_auction() -> None:
    app = make_app([_Faulty(), make_engine("baseline")])  # type: ignore[list-item]
    async with TestClient(TestServer(app)) as client:
        response = await client.post("/solve", data=json.dumps(_auction()))
        assert response.status == 200
        (solution,) = dto.decode_solver_response(await response.read()).solutions
        assert solution.trades


async def test_unfillable_auction_has_no_solutions(client: TestClient) -> None:  # type: ignore[type-arg]
    doc = _auction(buyAmount=str(30 * E18), fullBuyAmount=str(30 * E18))
    response = await client.post("/solve", data=json.dumps(doc))
    assert response.status == 200
    assert json.loads(await response.read()) == {"solutions": []}


@pytest.mark.parametrize(
    ("body", "status", "error_type", "path"),
    [
        (b"{not json", 400, "MalformedJson", None),
        (
            json.dumps(_auction(sellAmount=5)).encode(),
            422,
            "InvalidAuction",
            "$.orders[0].sellAmount",
        ),
        (json.dumps({"id": None}).encode(), 422, "InvalidAuction", "tokens"),
        (
            json.dumps(_auction(wrappers=[{"address": 1, "data": "0x"}])).encode(),
            422,
            "InvalidAuction",
            "$.orders[0].wrappers[0].address",
        ),
        (
            json.dumps(_auction({"id": ["1"], "newField": 1})).encode(),
            422,
            "InvalidAuction",
            "$.id",
        ),
        (
            json.dumps(_auction({"liquidity": [{"kind": "curve", "id": "1"}]})).encode(),
            422,
            "InvalidAuction",
            "$.liquidity[0]",
        ),
    ],
)
async def test_solve_rejections(
    client: TestClient,  # type: ignore[type-arg]
    body: bytes,
    status: int,
    error_type: str,
    path: str | None,
) -> None:
    response = await client.post("/solve", data=body)
    assert response.status == status
    error = await response.json()
    assert error["errorType"] == error_type
    if path:
        assert path in error["description"]


async def test_notify(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[type-arg]
    caplog.set_level(logging.INFO, logger="solver.solve_api")
    body = {"kind": "success", "auctionId": "42", "solutionId": 0, "transaction": "0x" + "ab" * 32}
    response = await client.post("/notify", data=json.dumps(body))
    assert response.status == 204
    assert "Success for auction 42 solution 0" in caplog.text
    bad = await client.post("/notify", data=json.dumps({"kind": "nonsense"}))
    assert bad.status == 422
    assert (await bad.json())["errorType"] == "InvalidNotification"
    newer = {"kind": "settlementStarted", "auctionId": "x-1", "solutionId": 1, "extra": [1]}
    assert (await client.post("/notify", data=json.dumps(newer))).status == 204
    wrong = await client.post("/notify", data=json.dumps({"kind": "timeout", "solutionId": "1"}))
    assert wrong.status == 422
    assert "$.solutionId" in (await wrong.json())["description"]


async def test_only_solver_endpoints(client: TestClient) -> None:  # type: ignore[type-arg]
    missing = await client.post("/api/v1/orders", data=b"{}")
    assert missing.status == 404
    assert (await missing.json())["errorType"] == "NotFound"
    wrong = await client.get("/solve")
    assert wrong.status == 405


async def test_only_solutions_that_pass_the_checks_are_answered() -> None:
    from tests.solver.test_solve_cli import HalfFills

    app = make_app([HalfFills(), make_engine("baseline")])  # type: ignore[list-item]
    async with TestClient(TestServer(app)) as client:
        response = await client.post("/solve", data=json.dumps(_auction()))
        assert response.status == 200
        solutions = dto.decode_solver_response(await response.read()).solutions
    # the baseline's full fill is answered, its half-filled copy is not
    assert len(solutions) == 1
    order = _auction()["orders"][0]
    (trade,) = solutions[0].trades
    assert isinstance(trade, dto.Fulfillment)
    assert trade.executed_amount == int(order["sellAmount"]) - (trade.fee or 0)


# -- limits: the bearer token, the body size, the time limit --------------------------------


class _Recorder:
    """An engine that records the deadline it was given and finds nothing."""

    name = "recorder"

    def __init__(self) -> None:
        self.deadlines: list[datetime] = []

    def solve(self, auction: Any) -> list[object]:
        self.deadlines.append(auction.deadline)
        return []


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (None, 401),
        ("Bearer wrong", 401),
        ("bearer s3cret-token", 401),
        ("s3cret-token", 401),
        ("Bearer s3cret-tökén", 401),
        ("Bearer s3cret-token", 200),
    ],
)
async def test_with_a_token_only_its_bearer_is_served(
    authorization: str | None, status: int
) -> None:
    recorder = _Recorder()
    app = make_app([recorder], SolveApiSettings(token="s3cret-token"))  # type: ignore[list-item]
    headers = {"Authorization": authorization} if authorization is not None else {}
    async with TestClient(TestServer(app)) as client:
        for path in ("/solve", "/notify"):
            response = await client.post(path, data=json.dumps(_auction()), headers=headers)
            if status == 401:
                assert response.status == 401
                assert response.headers["WWW-Authenticate"] == "Bearer"
                assert (await response.json())["errorType"] == "Unauthorized"
    assert len(recorder.deadlines) == (1 if status == 200 else 0)


def test_an_empty_token_is_refused() -> None:
    with pytest.raises(ValueError):
        SolveApiSettings(token="")


async def test_a_body_over_the_limit_is_413() -> None:
    app = make_app([make_engine("baseline")], SolveApiSettings(max_body_bytes=2000))
    async with TestClient(TestServer(app)) as client:
        doc = _auction({"id": "x" * 3000})
        response = await client.post("/solve", data=json.dumps(doc))
        assert response.status == 413
        assert (await response.json())["errorType"] == "PayloadTooLarge"
        response = await client.post("/solve", data=json.dumps(_auction()))
        assert response.status == 200


async def test_a_deadline_past_the_time_limit_is_clamped(caplog: pytest.LogCaptureFixture) -> None:
    recorder = _Recorder()
    app = make_app([recorder], SolveApiSettings(max_time_limit=2.0))  # type: ignore[list-item]
    far = datetime.now(UTC) + timedelta(hours=1)
    near = datetime.now(UTC) + timedelta(seconds=1)
    async with TestClient(TestServer(app)) as client:
        for deadline in (far, near):
            doc = _auction({"deadline": deadline.isoformat().replace("+00:00", "Z")})
            with caplog.at_level(logging.INFO, logger="solver.solve_api"):
                response = await client.post("/solve", data=json.dumps(doc))
            assert response.status == 200
    clamped, kept = recorder.deadlines
    assert clamped <= datetime.now(UTC) + timedelta(seconds=2)
    assert clamped < far - timedelta(minutes=59)
    assert kept == near.replace(microsecond=kept.microsecond)  # an earlier one is kept
    assert sum("further than the time limit" in r.getMessage() for r in caplog.records) == 1
