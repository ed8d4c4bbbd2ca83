"""The solver-engine DTOs: exact round trips, Rust-compatible spellings, errors with paths."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from solver import dto, dto_notification

A = "0x" + "aa" * 20
B = "0x" + "bb" * 20
UID = "0x" + "12" * 56
H32 = "0x" + "34" * 32


def _order(**changes: Any) -> dict[str, Any]:
    order: dict[str, Any] = {
        "uid": UID,
        "sellToken": A,
        "buyToken": B,
        "sellAmount": "1000",
        "fullSellAmount": "1000",
        "buyAmount": "900",
        "fullBuyAmount": "900",
        "feePolicies": [
            {"surplus": {"factor": 0.5, "maxVolumeFactor": 0.01}},
            {"volume": {"factor": 0.001}},
            {
                "priceImprovement": {
                    "factor": 0.5,
                    "maxVolumeFactor": 0.01,
                    "quote": {"sellAmount": "1", "buyAmount": "2", "fee": "3"},
                }
            },
        ],
        "validTo": 4294967295,
        "kind": "sell",
        "receiver": None,
        "owner": B,
        "partiallyFillable": False,
        "preInteractions": [{"target": A, "value": "0", "callData": "0x1234"}],
        "postInteractions": [],
        "sellTokenSource": "erc20",
        "buyTokenDestination": "erc20",
        "class": "limit",
        "appData": H32,
        "signingScheme": "eip712",
        "signature": "0x" + "00" * 65,
    }
    order.update(changes)
    return order


def _auction(**changes: Any) -> dict[str, Any]:
    auction: dict[str, Any] = {
        "id": "7400681",
        "tokens": {
            A: {
                "decimals": 18,
                "symbol": "AAA",
                "referencePrice": "1000000000000000000",
                "availableBalance": "0",
                "trusted": True,
            },
            B: {
                "decimals": None,
                "symbol": None,
                "referencePrice": None,
                "availableBalance": str(2**256 - 1),
                "trusted": False,
            },
        },
        "orders": [_order()],
        "liquidity": [
            {
                "kind": "constantProduct",
                "id": "0",
                "address": A,
                "router": B,
                "gasEstimate": "110000",
                "tokens": {A: {"balance": "100"}, B: {"balance": "200"}},
                "fee": "0.003",
            },
            {
                "kind": "weightedProduct",
                "id": "1",
                "address": A,
                "balancerPoolId": H32,
                "gasEstimate": "88892",
                "tokens": {
                    A: {"balance": "5", "scalingFactor": "1", "weight": "0.5"},
                    B: {"balance": "6", "scalingFactor": "1000000000000", "weight": "0.5"},
                },
                "fee": "0.0025",
                "version": "v3Plus",
            },
            {
                "kind": "stable",
                "id": "2",
                "address": A,
                "balancerPoolId": H32,
                "gasEstimate": "183520",
                "tokens": {
                    A: {"balance": "5", "scalingFactor": "1"},
                    B: {"balance": "6", "scalingFactor": "1"},
                },
                "amplificationParameter": "200",
                "fee": "0.0001",
            },
            {
                "kind": "concentratedLiquidity",
                "id": "3",
                "address": A,
                "router": B,
                "gasEstimate": "108000",
                "tokens": [A, B],
                "sqrtPrice": "79228162514264337593543950336",
                "liquidity": "340282366920938463463374607431768211455",
                "tick": -887272,
                "liquidityNet": {"-887220": "100", "887220": "-100"},
                "fee": "0.0005",
            },
            {
                "kind": "limitOrder",
                "id": "4",
                "address": A,
                "gasEstimate": "66358",
                "hash": H32,
                "makerToken": A,
                "takerToken": B,
                "makerAmount": "1",
                "takerAmount": "2",
                "takerTokenFeeAmount": "0",
            },
        ],
        "effectiveGasPrice": "15189175884",
        "deadline": "2023-09-05T12:00:00.5Z",
        "surplusCapturingJitOrderOwners": [B],
    }
    auction.update(changes)
    return auction


def _bytes(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc).encode()


def test_auction_round_trip_all_liquidity_kinds() -> None:
    auction = dto.decode_auction(_bytes(_auction()))
    kinds = [type(entry).__name__ for entry in auction.liquidity]
    assert kinds == [
        "ConstantProductPool",
        "WeightedProductPool",
        "StablePool",
        "ConcentratedLiquidityPool",
        "ForeignLimitOrder",
    ]
    assert auction.tokens[B].available_balance == 2**256 - 1
    assert auction.deadline == datetime(2023, 9, 5, 12, 0, 0, 500000, tzinfo=UTC)
    assert auction.orders[0].class_ == "limit"
    again = dto.decode_auction(dto.encode(auction))
    assert again == auction
    # the encoded document spells every key as the Rust structs do
    encoded = json.loads(dto.encode(auction))
    assert set(encoded["orders"][0]) == set(_order()) - {"receiver"}  # null: skipped
    assert encoded["liquidity"][1]["balancerPoolId"] == H32
    assert encoded["tokens"][B]["availableBalance"] == str(2**256 - 1)


def test_hex_amounts_accepted_and_written_as_decimal() -> None:
    auction = dto.decode_auction(_bytes(_auction(effectiveGasPrice="0x3b9aca00")))
    assert auction.effective_gas_price == 10**9
    assert json.loads(dto.encode(auction))["effectiveGasPrice"] == "1000000000"


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"effectiveGasPrice": 5}, "$.effectiveGasPrice"),
        ({"effectiveGasPrice": str(2**256)}, "$.effectiveGasPrice"),
        ({"effectiveGasPrice": "-1"}, "$.effectiveGasPrice"),
        ({"orders": [_order(sellAmount="1e3")]}, "$.orders[0].sellAmount"),
        ({"orders": [_order(kind="limit")]}, "$.orders[0].kind"),
        ({"orders": [_order(uid="0x12")]}, "$.orders[0].uid"),
        ({"orders": [_order(feePolicies=[{}])]}, "$.orders[0].feePolicies[0]"),
        ({"orders": [_order(wrappers={})]}, "$.orders[0].wrappers"),
        ({"orders": [_order(wrappers=[{"data": "0x"}])]}, "$.orders[0].wrappers[0]"),
        (
            {"orders": [_order(wrappers=[{"address": 5, "data": "0x"}])]},
            "$.orders[0].wrappers[0].address",
        ),
        (
            {"orders": [_order(wrappers=[{"address": A, "data": "0x1"}])]},
            "$.orders[0].wrappers[0].data",
        ),
        (
            {"orders": [_order(wrappers=[{"address": A, "data": "0x", "isOmittable": "yes"}])]},
            "$.orders[0].wrappers[0].isOmittable",
        ),
        ({"orders": [_order(feeAmount="12", validTo="1")]}, "$.orders[0].validTo"),
        ({"liquidity": [{"kind": "curve", "id": "9"}]}, "$.liquidity[0]"),
        ({"id": True}, "$.id"),
        ({"id": 1.5}, "$.id"),
        ({"id": {"value": "1"}}, "$.id"),
        ({"id": 2**63}, "$.id"),
        ({"unknownField": 1, "deadline": "tomorrow"}, "$.deadline"),
    ],
)
def test_invalid_auctions_name_the_field(changes: dict[str, Any], path: str) -> None:
    with pytest.raises(msgspec.ValidationError) as error:
        dto.decode_auction(_bytes(_auction(**changes)))
    assert path in str(error.value)


def test_unknown_fields_are_ignored() -> None:
    """Forward compatibility, as serde (no ``deny_unknown_fields`` in ``solvers-dto``)."""
    plain = dto.decode_auction(_bytes(_auction()))
    token = _auction()["tokens"][A] | {"logo": "x"}
    pool = _auction()["liquidity"][0] | {"hooks": None}
    policies = [{"volume": {"factor": 0.001, "cap": "5"}}]
    richer = _auction(
        orders=[_order(feeAmount="31337", quote={"id": 1}, feePolicies=policies)],
        tokens=_auction()["tokens"] | {A: token},
        liquidity=[pool, *_auction()["liquidity"][1:]],
        protocolVersion=2,
    )
    decoded = dto.decode_auction(_bytes(richer))
    assert decoded.tokens == plain.tokens and decoded.liquidity == plain.liquidity
    assert decoded.orders[0] == msgspec.structs.replace(
        plain.orders[0], fee_policies=[dto.FeePolicy(volume=dto.VolumePolicy(factor=0.001))]
    )


@pytest.mark.parametrize(
    ("wire", "decoded"),
    [
        ("7400681", "7400681"),
        ("-1", "-1"),
        (7400681, 7400681),
        ("auction-2024-06-01T12:00:00Z", "auction-2024-06-01T12:00:00Z"),
        (None, None),
    ],
)
def test_auction_ids(wire: object, decoded: object) -> None:
    """The driver writes an ``i64`` as a decimal string; the OpenAPI file calls the id
    opaque, and third-party auctions use integers and other strings: all are accepted."""
    assert dto.decode_auction(_bytes(_auction(id=wire))).id == decoded


def test_a_missing_auction_id_is_null() -> None:
    doc = _auction()
    del doc["id"]
    assert dto.decode_auction(_bytes(doc)).id is None


def test_order_wrappers() -> None:
    wrappers = [
        {"address": A, "data": "0xabcd", "isOmittable": True},
        {"address": B, "data": "0x"},
    ]
    (order,) = dto.decode_auction(_bytes(_auction(orders=[_order(wrappers=wrappers)]))).orders
    assert order.wrappers == [
        dto.WrapperCall(address=A, data="0xabcd", is_omittable=True),
        dto.WrapperCall(address=B, data="0x", is_omittable=False),
    ]
    encoded = json.loads(dto.encode(order))
    assert encoded["wrappers"][1] == {"address": B, "data": "0x", "isOmittable": False}


def test_absent_optional_order_fields_are_omitted() -> None:
    """``feePolicies``, ``receiver``, ``flashloanHint`` and ``wrappers`` are
    ``skip_serializing_if`` in ``auction.rs``; the token's optional fields are not."""
    doc = _order()
    for key in ("feePolicies", "receiver"):
        del doc[key]
    auction = dto.decode_auction(_bytes(_auction(orders=[doc])))
    encoded = json.loads(dto.encode(auction))
    assert set(encoded["orders"][0]) == set(doc)
    assert encoded["tokens"][B] == _auction()["tokens"][B]


@given(st.integers(min_value=0, max_value=2**256 - 1))
def test_any_uint256_survives_a_round_trip(amount: int) -> None:
    trade = dto.Fulfillment(order=UID, executed_amount=dto.U256(amount), fee=dto.U256(amount))
    solution = dto.Solution(
        id=1, prices={A: dto.U256(amount)}, trades=[trade], interactions=[], gas=21000
    )
    body = dto.encode(dto.SolverResponse(solutions=[solution]))
    assert json.loads(body)["solutions"][0]["prices"][A] == str(amount)
    assert dto.decode_solver_response(body).solutions == [solution]


def test_solution_spellings() -> None:
    solution = dto.Solution(
        id=3,
        prices={A: dto.U256(1), B: dto.U256(2)},
        trades=[dto.Fulfillment(order=UID, executed_amount=dto.U256(10))],
        pre_interactions=[dto.Call(target=A, value=dto.U256(0), call_data="0x")],
        interactions=[
            dto.LiquidityInteraction(
                internalize=False,
                id="0",
                input_token=A,
                output_token=B,
                input_amount=dto.U256(10),
                output_amount=dto.U256(19),
            ),
            dto.CustomInteraction(
                internalize=True,
                target=B,
                value=dto.U256(0),
                call_data="0xabcd",
                allowances=[dto.Allowance(token=A, spender=B, amount=dto.U256(7))],
                inputs=[dto.Asset(token=A, amount=dto.U256(7))],
                outputs=[dto.Asset(token=B, amount=dto.U256(8))],
            ),
        ],
    )
    doc = json.loads(dto.encode(solution))
    assert doc["trades"][0] == {"kind": "fulfillment", "order": UID, "executedAmount": "10"}
    assert doc["preInteractions"][0]["kind"] == "Call"
    assert doc["interactions"][0]["kind"] == "liquidity"
    assert doc["interactions"][0]["inputAmount"] == "10"
    assert doc["interactions"][1]["callData"] == "0xabcd"
    assert doc["interactions"][1]["allowances"][0]["amount"] == "7"
    # the Call tag is optional when decoding, as serde accepts it
    del doc["preInteractions"][0]["kind"]
    assert dto.decode_solver_response(json.dumps({"solutions": [doc]}).encode()).solutions == [
        solution
    ]


def test_jit_trade_and_error_response() -> None:
    jit = {
        "kind": "jit",
        "order": {
            "sellToken": A,
            "buyToken": B,
            "receiver": A,
            "sellAmount": "5",
            "buyAmount": "6",
            "validTo": 1,
            "appData": H32,
            "kind": "buy",
            "sellTokenBalance": "erc20",
            "buyTokenBalance": "erc20",
            "signingScheme": "ethSign",
            "signature": "0x",
        },
        "executedAmount": "6",
    }
    body = {"solutions": [{"id": 1, "prices": {}, "trades": [jit], "interactions": []}]}
    response = dto.decode_solver_response(json.dumps(body).encode())
    trade = response.solutions[0].trades[0]
    assert isinstance(trade, dto.JitTrade)
    assert trade.order.partially_fillable is False
    error = dto.decode_solver_response(b'{"error": {"code": "insufficientLiquidity"}}')
    assert error.error is not None
    assert error.error.code == "insufficientLiquidity"
    assert error.solutions == []


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ({"kind": "timeout", "auctionId": "1", "solutionId": 2}, dto_notification.Timeout),
        (
            {"kind": "emptySolution", "auctionId": None, "solutionId": [1, 2]},
            dto_notification.EmptySolution,
        ),
        ({"kind": "missingPrice", "tokenAddress": A}, dto_notification.MissingPrice),
        (
            {"kind": "nonBufferableTokensUsed", "tokens": [A, B]},
            dto_notification.NonBufferableTokensUsed,
        ),
        (
            {"kind": "solverAccountInsufficientBalance", "required": "5"},
            dto_notification.SolverAccountInsufficientBalance,
        ),
        ({"kind": "success", "transaction": H32}, dto_notification.Success),
        ({"kind": "driverError", "reason": "boom"}, dto_notification.DriverError),
        (
            {
                "kind": "banned",
                "reason": {"reason": "lowSettlingRate"},
                "until": "2024-01-01T00:00:00Z",
            },
            dto_notification.Banned,
        ),
        (
            {
                "kind": "simulationFailed",
                "block": 17,
                "succeededOnce": True,
                "tx": {
                    "from": A,
                    "to": B,
                    "input": "0x00",
                    "value": "0",
                    "accessList": [{"address": A, "storageKeys": [H32]}],
                },
            },
            dto_notification.SimulationFailed,
        ),
    ],
)
def test_notifications(body: dict[str, Any], kind: type) -> None:
    notification = dto_notification.decode_notification(json.dumps(body).encode())
    assert type(notification) is kind


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (
            {"kind": "settlementStarted", "auctionId": "1", "solutionId": 0},
            dto_notification.SettlementStarted,
        ),
        ({"kind": "expired", "auctionId": "1", "solutionId": 0}, dto_notification.Expired),
        ({"kind": "deserializationError", "reason": "bad"}, dto_notification.DeserializationError),
        (
            {"kind": "timeout", "auctionId": "third-party-7", "solutionId": 2},
            dto_notification.Timeout,
        ),
        (
            {"kind": "timeout", "auctionId": 7, "solutionId": 2, "newField": [1]},
            dto_notification.Timeout,
        ),
        (
            {"kind": "missingPrice", "tokenAddress": A, "extra": {"a": 1}},
            dto_notification.MissingPrice,
        ),
    ],
)
def test_current_and_future_notifications(body: dict[str, Any], kind: type) -> None:
    notification = dto_notification.decode_notification(json.dumps(body).encode())
    assert type(notification) is kind
    assert notification.auction_id == body.get("auctionId")


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"kind": "timeout", "auctionId": False}, "$.auctionId"),
        ({"kind": "timeout", "solutionId": "1"}, "$.solutionId"),
        ({"kind": "missingPrice", "tokenAddress": 1, "extra": 1}, "$.tokenAddress"),
    ],
)
def test_invalid_notifications_name_the_field(body: dict[str, Any], path: str) -> None:
    with pytest.raises(msgspec.ValidationError) as error:
        dto_notification.decode_notification(json.dumps(body).encode())
    assert path in str(error.value)


def test_unknown_notification_kind_is_rejected() -> None:
    with pytest.raises(msgspec.ValidationError):
        dto_notification.decode_notification(b'{"kind": "somethingElse"}')
