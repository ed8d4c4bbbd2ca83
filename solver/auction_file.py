"""Auction files of either format as the domain ``Auction``: the solver-engine format
(decoded by ``solver.dto``, converted by ``solver.dto_convert``) and the legacy instance
format (``tokens``/``orders``/``amms``/``metadata``: its liquidity and tokens parsed by
``routing.liquidity.parse_snapshot``, the one legacy parser; its orders here)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from intents.order import OrderClass, OrderKind
from intents.types import Address, OrderUid
from routing.liquidity import decimal_fraction, parse_snapshot
from routing.pool import token_address
from solver import dto
from solver.dto_convert import auction_from_dto
from solver.errors import SolverError
from solver.model import Auction, Order, Token


class AuctionFormatError(SolverError, ValueError):
    """The document is not an auction this module can read."""

    code = "InvalidAuction"


def load_auction(raw: bytes, deadline: datetime) -> Auction:
    """An auction from a JSON document of either format; ``deadline`` is used when the
    document has none (the legacy format)."""
    doc = json.loads(raw)
    if isinstance(doc, dict) and "amms" in doc:
        return auction_from_legacy(doc, deadline)
    return auction_from_dto(dto.decode_auction(raw))


def auction_from_legacy(doc: Mapping[str, Any], deadline: datetime) -> Auction:
    """The domain auction of a legacy instance file. Orders with a signed fee are
    ``market`` orders, the others ``limit``."""
    try:
        snapshot = parse_snapshot(doc)
        metadata = doc.get("metadata") or {}
        tokens = {
            address: Token(
                address=address,
                decimals=info.decimals,
                symbol=info.symbol,
                reference_price=info.reference_price,
                available_balance=int(doc["tokens"][address].get("internal_buffer") or 0),
                trusted=bool(doc["tokens"][address].get("accepted_for_internalization")),
            )
            for address, info in snapshot.tokens.items()
        }
        orders = tuple(_legacy_order(entry) for entry in doc["orders"].values())
    except (KeyError, TypeError, ValueError) as exc:
        raise AuctionFormatError(f"not a legacy auction: {type(exc).__name__}: {exc}") from exc
    auction_id = metadata.get("auction_id")
    return Auction(
        id=None if auction_id is None else str(auction_id),
        orders=orders,
        tokens=MappingProxyType(tokens),
        liquidity=snapshot.liquidity,
        gas_price=snapshot.gas_price,
        deadline=deadline,
    )


def _legacy_order(entry: Mapping[str, Any]) -> Order:
    uid = OrderUid(bytes.fromhex(entry["id"][2:]))
    if len(uid) != 56:
        raise AuctionFormatError(f"order id {entry['id']!r} is not a 56-byte UID")
    kind = OrderKind.SELL if entry["is_sell_order"] else OrderKind.BUY
    sell_amount, buy_amount = int(entry["sell_amount"]), int(entry["buy_amount"])
    fee = int(decimal_fraction((entry.get("fee") or {}).get("amount", "0")))
    return Order(
        uid=uid,
        owner=Address("0x" + uid[32:52].hex()),
        sell_token=token_address(entry["sell_token"]),
        buy_token=token_address(entry["buy_token"]),
        signed_sell_amount=sell_amount,
        signed_buy_amount=buy_amount,
        kind=kind,
        partially_fillable=bool(entry["allow_partial_fill"]),
        order_class=OrderClass.MARKET if fee else OrderClass.LIMIT,
        remaining=sell_amount if kind is OrderKind.SELL else buy_amount,
        signed_fee_amount=fee,
    )
