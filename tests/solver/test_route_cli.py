"""``tributary route``: prints a route (text or JSON) or a coded error."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest

from routing.liquidity import TokenInfo
from routing.pool import TokenAddress
from routing.reason import Rate, Reason, Token
from solver.route_cli import readable, route_command

WETH = "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"
TKA = "0x" + "a" * 40
TKB = "0x" + "b" * 40
TKC = "0x" + "c" * 40


def _auction(tmp_path: Path) -> Path:
    """A tiny legacy-format auction: two parallel A/B pairs and a WETH/A pair."""

    def amm(address: str, reserves: dict[str, str]) -> dict[str, object]:
        return {
            "kind": "ConstantProduct",
            "reserves": reserves,
            "fee": "0.003",
            "cost": {"amount": "1500000000000000", "token": WETH},
            "mandatory": False,
            "address": address,
        }

    doc = {
        "tokens": {
            WETH: {"decimals": 18, "alias": "WETH", "external_price": 1.0},
            TKA: {"decimals": 18, "alias": "TKA", "external_price": 1.0},
            TKB: {"decimals": 18, "alias": "TKB", "external_price": None},
            TKC: {"decimals": 18, "alias": "TKC", "external_price": 1.0},
        },
        "orders": {},
        "amms": {
            "1": amm("0x" + "1" * 40, {TKA: str(1000 * 10**18), TKB: str(1000 * 10**18)}),
            "2": amm("0x" + "2" * 40, {TKA: str(1000 * 10**18), TKB: str(1000 * 10**18)}),
            "3": amm("0x" + "3" * 40, {WETH: str(1000 * 10**18), TKA: str(1000 * 10**18)}),
        },
        "metadata": {"gas_price": 10000000000.0, "native_token": WETH},
    }
    path = tmp_path / "auction.json"
    path.write_text(json.dumps(doc))
    return path


def _args(auction: Path, **overrides: object) -> argparse.Namespace:
    values: dict[str, object] = {
        "auction": str(auction),
        "sell": "TKA",
        "buy": "TKB",
        "amount": 100 * 10**18,
        "kind": "sell",
        "max_hops": 3,
        "json": False,
    }
    values.update(overrides)
    return argparse.Namespace(**values)


def test_prints_a_split_route(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert route_command(_args(_auction(tmp_path))) == 0
    out = capsys.readouterr().out
    assert "optimal route (sell order)" in out
    legs = [line for line in out.splitlines() if re.match(r"\s+\d+\. pool ", line)]
    assert len(legs) == 2  # split over both pairs
    assert "baseline (CoW)" in out


def test_json_output_has_exact_amounts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = route_command(_args(_auction(tmp_path), json=True, kind="buy", amount=10**19))
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["kind"] == "buy"
    assert int(doc["amountOut"]) >= 10**19
    assert sum(int(leg["amountIn"]) for leg in doc["legs"]) == int(doc["amountIn"])
    assert int(doc["net"]) == int(doc["amountIn"]) + int(doc["gasCost"])
    assert doc["baseline"] is not None


def test_unknown_symbol_and_no_route_are_coded_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    auction = _auction(tmp_path)
    assert route_command(_args(auction, sell="NOPE")) == 2
    assert "[UnknownToken]" in capsys.readouterr().err
    assert route_command(_args(auction, buy=TKC)) == 1
    assert "[NoRoute]" in capsys.readouterr().err


def test_a_malformed_auction_is_a_coded_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "auction.json"
    path.write_text(json.dumps({"amms": {}, "metadata": {}}))
    assert route_command(_args(path)) == 2
    err = capsys.readouterr().err
    assert "[LiquidityFormatError]" in err and "gas_price" in err


def _six_decimal_b(tmp_path: Path) -> Path:
    """The tiny auction with TKB of 6 decimals (reserves likewise): a base-unit rate of A to
    B is 1e-12 times the rate in whole tokens."""
    path = _auction(tmp_path)
    doc = json.loads(path.read_text())
    doc["tokens"][TKB]["decimals"] = 6
    for amm in doc["amms"].values():
        if TKB in amm["reserves"]:
            amm["reserves"][TKB] = str(1000 * 10**6)
    path.write_text(json.dumps(doc))
    return path


_RATES = re.compile(r"realised rate ([\d,.e+-]+) TKB per TKA vs spot ([\d,.e+-]+) TKB per TKA")
_RAW_RATES = re.compile(r"realised rate ([\d.e+-]+) vs spot ([\d.e+-]+);")


def test_reasons_name_tokens_by_symbol_with_rates_in_whole_tokens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    auction = _six_decimal_b(tmp_path)
    assert route_command(_args(auction)) == 0
    why = capsys.readouterr().out.split("  why:")[1]
    assert TKA not in why and TKB not in why  # symbols, not addresses
    readable_rates = [tuple(float(x.replace(",", "")) for x in m) for m in _RATES.findall(why)]
    assert len(readable_rates) == 2  # one per leg of the split
    assert route_command(_args(auction, json=True)) == 0
    raw = "\n".join(json.loads(capsys.readouterr().out)["explanation"])
    assert TKA in raw and TKB in raw  # --json keeps the addresses and base units
    raw_rates = [tuple(float(x) for x in m) for m in _RAW_RATES.findall(raw)]
    assert len(raw_rates) == 2
    for whole, base in zip(readable_rates, raw_rates, strict=True):
        for w, b in zip(whole, base, strict=True):
            assert 0.9 < w < 1.0  # about one TKB per TKA, less the fee and the price impact
            assert w == pytest.approx(b * 10**12, rel=1e-5)


def test_a_rate_without_decimals_stays_in_base_units() -> None:
    a, b = TokenAddress(TKA), TokenAddress(TKB)
    tokens = {a: TokenInfo(a, 18, "TKA", None), b: TokenInfo(b, None, None, None)}
    reason = Reason("of ", Token(a), " at ", Rate(2.5e-12, a, b))
    assert str(reason) == f"of {TKA} at 2.5e-12"
    assert readable(reason, tokens) == f"of TKA at 2.5e-12 {TKB} per TKA (base units)"
    assert readable("a plain sentence", tokens) == "a plain sentence"
