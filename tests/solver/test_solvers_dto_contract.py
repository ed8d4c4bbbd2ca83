"""Contract with the current Rust DTOs of cowprotocol/services ``crates/solvers-dto``.

``data/solvers_dto_auction.json`` is an auction written by hand from ``auction.rs``: every
field of every struct (``wrappers`` included, ``isOmittable`` once given and once left to its
default), every liquidity kind, hex and decimal amounts, and made-up fields a newer driver
might add (serde ignores unknown fields: no struct there denies them). The solution side is
checked against the JSON serde writes for ``solution.rs``: ``skip_serializing_if`` fields
(``fee``, ``gas``, ``flashloans``, ``wrappers``, the flattened gas-fee override) are omitted
when absent, the others (``preInteractions``, ``postInteractions``, ``isOmittable``...) are
always written.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from solver import dto
from solver.dto_convert import auction_from_dto

FIXTURE = Path(__file__).parent / "data" / "solvers_dto_auction.json"

UNKNOWN_FIELDS = {
    "futureAuctionField",
    "futureTokenField",
    "futureOrderField",
    "feeAmount",
    "futureQuoteField",
    "futurePoolField",
}
"""The made-up fields of the fixture: no Rust struct has them."""

HEX_AMOUNTS = {"0x1bc16d674ec80000": str(2 * 10**18), "0x10": "16"}
"""The fixture's ``0x`` amounts (``HexOrDecimalU256`` input) and their decimal form."""

A = "0x1111111111111111111111111111111111111111"
B = "0x2222222222222222222222222222222222222222"
UID = "0x" + "aa" * 32 + "44" * 20 + "ffffffff"


def _fixture() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(FIXTURE.read_text())
    return doc


def _as_serde_writes_it(value: Any) -> Any:
    """The fixture as the Rust structs would serialize it after decoding it, but for
    defaults filled in: unknown fields dropped, amounts in decimal."""
    if isinstance(value, dict):
        return {k: _as_serde_writes_it(v) for k, v in value.items() if k not in UNKNOWN_FIELDS}
    if isinstance(value, list):
        return [_as_serde_writes_it(v) for v in value]
    if isinstance(value, str) and value in HEX_AMOUNTS:
        return HEX_AMOUNTS[value]
    return value


def test_the_current_auction_shape_decodes() -> None:
    doc = _fixture()
    auction = dto.decode_auction(json.dumps(doc).encode())
    assert auction.id == "9182736"
    assert auction.tokens[B].reference_price == 2 * 10**18  # hex on input
    first, second = auction.orders
    assert [(w.address, w.data, w.is_omittable) for w in first.wrappers] == [
        ("0xabababababababababababababababababababab", "0x01020304", True),
        ("0xcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd", "0x", False),
    ]
    assert second.wrappers == [] and second.receiver is None and second.fee_policies is None
    assert first.flashloan_hint is not None and first.flashloan_hint.amount == 5 * 10**17
    assert first.fee_policies is not None
    assert [type(p.price_improvement).__name__ for p in first.fee_policies] == [
        "NoneType",
        "PriceImprovementPolicy",
        "NoneType",
    ]
    assert [type(entry).__name__ for entry in auction.liquidity] == [
        "ConstantProductPool",
        "WeightedProductPool",
        "StablePool",
        "ConcentratedLiquidityPool",
        "ForeignLimitOrder",
    ]
    # nothing of it is lost: re-encoded, it is the fixture minus the unknown fields, with
    # the defaulted (not skipped) ``isOmittable`` written
    expected = _as_serde_writes_it(doc)
    expected["orders"][0]["wrappers"][1]["isOmittable"] = False
    assert json.loads(dto.encode(auction)) == expected


def test_the_current_auction_shape_reaches_the_engines() -> None:
    auction = auction_from_dto(dto.decode_auction(FIXTURE.read_bytes()))
    assert auction.id == "9182736"
    assert [o.remaining for o in auction.orders] == [6 * 10**17, 10**18]
    assert {str(p.id) for p in auction.liquidity.pools} >= {"0", "1", "2", "3"}


def test_every_unknown_field_is_ignored_wherever_it_is() -> None:
    doc = _fixture()
    plain = copy.deepcopy(doc)
    doc["orders"][1]["wrappers"] = [{"address": A, "data": "0x", "fromTheFuture": 1}]
    doc["liquidity"][3]["hooks"] = ["0x" + "00" * 20]
    doc["orders"][0]["preInteractions"][0]["gasLimit"] = "50000"
    doc["orders"][0]["flashloanHint"]["fee"] = "9"
    decoded = dto.decode_auction(json.dumps(doc).encode())
    assert decoded.liquidity == dto.decode_auction(json.dumps(plain).encode()).liquidity
    assert decoded.orders[1].wrappers == [dto.WrapperCall(address=A, data="0x")]


def _full_solution() -> dto.Solution:
    jit_order = dto.JitOrder(
        sell_token=B,
        buy_token=A,
        receiver=B,
        sell_amount=dto.U256(5),
        buy_amount=dto.U256(6),
        valid_to=1,
        app_data="0x" + "00" * 32,
        kind="sell",
        sell_token_balance="erc20",
        buy_token_balance="erc20",
        signing_scheme="eip712",
        signature="0x" + "11" * 65,
    )
    return dto.Solution(
        id=7,
        prices={A: dto.U256(3), B: dto.U256(4)},
        trades=[
            dto.Fulfillment(order=UID, executed_amount=dto.U256(10), fee=dto.U256(1)),
            dto.Fulfillment(order=UID, executed_amount=dto.U256(11)),
            dto.JitTrade(order=jit_order, executed_amount=dto.U256(5), fee=dto.U256(0)),
            dto.JitTrade(order=jit_order, executed_amount=dto.U256(5)),
        ],
        pre_interactions=[dto.Call(target=A, value=dto.U256(0), call_data="0x01")],
        interactions=[
            dto.LiquidityInteraction(
                internalize=True,
                id="0",
                input_token=A,
                output_token=B,
                input_amount=dto.U256(10),
                output_amount=dto.U256(20),
            ),
            dto.CustomInteraction(
                internalize=False,
                target=B,
                value=dto.U256(1),
                call_data="0x02",
                allowances=[dto.Allowance(token=A, spender=B, amount=dto.U256(10))],
                inputs=[dto.Asset(token=A, amount=dto.U256(10))],
                outputs=[dto.Asset(token=B, amount=dto.U256(20))],
            ),
        ],
        post_interactions=[dto.Call(target=B, value=dto.U256(2), call_data="0x")],
        gas=250_000,
        max_fee_per_gas=dto.U256(30 * 10**9),
        max_priority_fee_per_gas=dto.U256(10**9),
        flashloans={
            UID: dto.Flashloan(
                liquidity_provider=A,
                protocol_adapter=B,
                receiver=A,
                token=B,
                amount=dto.U256(99),
            )
        },
        wrappers=[dto.SolutionWrapperCall(address=B, data="0xfeed")],
    )


def test_a_solution_encodes_to_the_rust_shape() -> None:
    doc = json.loads(dto.encode_solutions([_full_solution()]))
    jit_order = {
        "sellToken": B,
        "buyToken": A,
        "receiver": B,
        "sellAmount": "5",
        "buyAmount": "6",
        "partiallyFillable": False,
        "validTo": 1,
        "appData": "0x" + "00" * 32,
        "kind": "sell",
        "sellTokenBalance": "erc20",
        "buyTokenBalance": "erc20",
        "signingScheme": "eip712",
        "signature": "0x" + "11" * 65,
    }
    assert doc == {
        "solutions": [
            {
                "id": 7,
                "prices": {A: "3", B: "4"},
                "trades": [
                    {"kind": "fulfillment", "order": UID, "executedAmount": "10", "fee": "1"},
                    {"kind": "fulfillment", "order": UID, "executedAmount": "11"},
                    {"kind": "jit", "order": jit_order, "executedAmount": "5", "fee": "0"},
                    {"kind": "jit", "order": jit_order, "executedAmount": "5"},
                ],
                "preInteractions": [
                    {"kind": "Call", "target": A, "value": "0", "callData": "0x01"}
                ],
                "interactions": [
                    {
                        "kind": "liquidity",
                        "internalize": True,
                        "id": "0",
                        "inputToken": A,
                        "outputToken": B,
                        "inputAmount": "10",
                        "outputAmount": "20",
                    },
                    {
                        "kind": "custom",
                        "internalize": False,
                        "target": B,
                        "value": "1",
                        "callData": "0x02",
                        "allowances": [{"token": A, "spender": B, "amount": "10"}],
                        "inputs": [{"token": A, "amount": "10"}],
                        "outputs": [{"token": B, "amount": "20"}],
                    },
                ],
                "postInteractions": [{"kind": "Call", "target": B, "value": "2", "callData": "0x"}],
                "gas": 250_000,
                "maxFeePerGas": str(30 * 10**9),
                "maxPriorityFeePerGas": str(10**9),
                "flashloans": {
                    UID: {
                        "liquidityProvider": A,
                        "protocolAdapter": B,
                        "receiver": A,
                        "token": B,
                        "amount": "99",
                    }
                },
                "wrappers": [{"address": B, "data": "0xfeed"}],
            }
        ]
    }
    (again,) = dto.decode_solver_response(json.dumps(doc).encode()).solutions
    assert again == _full_solution()


def test_absent_optional_solution_fields_are_omitted() -> None:
    bare = dto.Solution(id=0, prices={}, trades=[], interactions=[])
    assert json.loads(dto.encode_solutions([bare])) == {
        "solutions": [
            {
                "id": 0,
                "prices": {},
                "trades": [],
                "preInteractions": [],
                "interactions": [],
                "postInteractions": [],
            }
        ]
    }
    assert json.loads(dto.encode(dto.SolverResponse())) == {"solutions": []}
    assert json.loads(dto.encode(dto.SolverError(code="other"))) == {"code": "other"}
