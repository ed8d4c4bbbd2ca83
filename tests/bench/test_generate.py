"""The auction generator: deterministic per seed, loadable, mixes as configured."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bench.generate import Settings, generate, liquid_tokens
from intents.order import OrderClass, OrderKind
from solver.auction_file import load_auction
from tests.data import MAINNET_AUCTION

pytestmark = pytest.mark.skipif(not MAINNET_AUCTION.exists(), reason="shared auction absent")


@pytest.fixture(scope="module")
def doc() -> dict[str, object]:
    return json.loads(MAINNET_AUCTION.read_bytes())  # type: ignore[no-any-return]


def test_same_seed_same_bytes_other_seed_differs(doc: dict[str, object]) -> None:
    one = generate(doc, Settings(orders=200, seed=7))
    assert one == generate(doc, Settings(orders=200, seed=7))
    assert one != generate(doc, Settings(orders=200, seed=8))


def test_output_loads_with_configured_mixes(doc: dict[str, object]) -> None:
    settings = Settings(orders=2000, seed=3, sell_share=0.7, market_share=0.25, partial_share=0.4)
    raw = generate(doc, settings)
    auction = load_auction(raw, datetime.now(UTC))
    orders = auction.orders
    assert len(orders) == 2000
    assert len({o.uid for o in orders}) == 2000
    liquid = {t.address for t in liquid_tokens(doc, settings.min_depth)}
    assert all(o.sell_token in liquid and o.buy_token in liquid for o in orders)
    assert all(o.sell_token != o.buy_token for o in orders)
    sells = sum(o.kind is OrderKind.SELL for o in orders) / 2000
    market = [o for o in orders if o.order_class is OrderClass.MARKET]
    limit = [o for o in orders if o.order_class is OrderClass.LIMIT]
    assert abs(sells - 0.7) < 0.04
    assert abs(len(market) / 2000 - 0.25) < 0.04
    assert all(o.signed_fee_amount > 0 and not o.partially_fillable for o in market)
    assert all(o.signed_fee_amount == 0 for o in limit)
    assert abs(sum(o.partially_fillable for o in limit) / len(limit) - 0.4) < 0.05
    # validTo (the UID's last 4 bytes) is the configured, far-future one
    assert all(int.from_bytes(o.uid[52:56], "big") == settings.valid_to for o in orders)


def _facing_pairs(raw: bytes) -> int:
    entries = json.loads(raw)["orders"].values()
    pairs = {(e["sell_token"], e["buy_token"]) for e in entries}
    return sum((b, s) in pairs for s, b in pairs)


def test_busy_market_faces_more(doc: dict[str, object]) -> None:
    default = _facing_pairs(generate(doc, Settings(orders=2000, seed=5)))
    busy = _facing_pairs(generate(doc, Settings(orders=2000, seed=5, facing=0.1)))
    assert busy > default + 100
