"""``tributary route``: route one order through an auction file's liquidity and print it.

Tokens may be given as addresses or as the auction's symbols (``WETH``). The optimal route
is printed with its legs, gas, price impact and the reasons for each split (tokens by
symbol, amounts and rates in whole tokens), next to the CoW baseline's answer for
comparison; ``--json`` prints the same as one JSON object, the reasons with raw addresses
and base-unit rates as they always were.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from routing.baseline import baseline_route
from routing.graph import TokenGraph
from routing.liquidity import Snapshot, TokenInfo, parse_snapshot
from routing.optimizer import Router, RouterConfig
from routing.pool import TokenAddress
from routing.reason import Amount, Rate, Reason, Token
from routing.route import NoRoute, OrderKind, Route
from solver import dto
from solver.dto_convert import auction_from_dto
from solver.errors import SolverError

logger = logging.getLogger(__name__)


class TokenLookupError(SolverError, ValueError):
    code = "UnknownToken"


def load_snapshot(path: str) -> Snapshot:
    """Parse an auction file (legacy or solver-engine format)."""
    raw = Path(path).read_bytes()
    doc = json.loads(raw)
    if isinstance(doc, dict) and "amms" in doc:
        return parse_snapshot(doc)
    auction = auction_from_dto(dto.decode_auction(raw))
    tokens = {
        t: TokenInfo(t, info.decimals, info.symbol, info.reference_price)
        for t, info in auction.tokens.items()
    }
    return Snapshot(
        pools=auction.liquidity.pools,
        tokens=MappingProxyType(tokens),
        gas_price=auction.gas_price,
        native_token=None,
        skipped=auction.liquidity.skipped,
    )


def build_graph(snapshot: Snapshot) -> TokenGraph:
    """The token graph of a snapshot, with its reference prices and gas price."""
    prices = {t: info.reference_price for t, info in snapshot.tokens.items()}
    return TokenGraph(snapshot.pools, prices, gas_price=snapshot.gas_price)


def resolve_token(text: str, tokens: Mapping[TokenAddress, TokenInfo]) -> TokenAddress:
    """An address (any case) or a symbol known to the auction."""
    lowered = text.lower()
    if lowered.startswith("0x") and len(lowered) == 42:
        return TokenAddress(lowered)
    matches = [t for t, info in tokens.items() if (info.symbol or "").lower() == lowered]
    if len(matches) != 1:
        found = "no token" if not matches else f"{len(matches)} tokens"
        raise TokenLookupError(f"{found} with symbol {text!r} in the auction; give the address")
    return matches[0]


def route_to_json(route: Route) -> dict[str, Any]:
    """A JSON-ready view of a route; amounts are decimal strings of base units."""
    return {
        "strategy": route.strategy,
        "kind": route.kind.value,
        "sellToken": route.sell_token,
        "buyToken": route.buy_token,
        "amountIn": str(route.amount_in),
        "amountOut": str(route.amount_out),
        "gas": route.gas,
        "gasCost": str(route.gas_cost),
        "net": str(route.net),
        "priceImpactBp": round(route.price_impact_bp, 4),
        "legs": [
            {
                "pool": leg.pool,
                "tokenIn": leg.token_in,
                "tokenOut": leg.token_out,
                "amountIn": str(leg.amount_in),
                "amountOut": str(leg.amount_out),
            }
            for leg in route.legs
        ],
        "explanation": list(route.explanation),
    }


def _units(amount: int, token: TokenAddress, tokens: Mapping[TokenAddress, TokenInfo]) -> str:
    info = tokens.get(token)
    name = (info.symbol if info else None) or token
    if info is None or info.decimals is None:
        return f"{amount} {name}"
    whole = amount / 10**info.decimals
    return f"{whole:.6g} {name} ({amount})"


def _rate(rate: Rate, tokens: Mapping[TokenAddress, TokenInfo]) -> str:
    """A rate in whole tokens (``1,611.27 USDC per WETH``); in base units without decimals."""
    info_in, info_out = tokens.get(rate.token_in), tokens.get(rate.token_out)
    name_in = (info_in.symbol if info_in else None) or rate.token_in
    name_out = (info_out.symbol if info_out else None) or rate.token_out
    if info_in is None or info_out is None or info_in.decimals is None or info_out.decimals is None:
        return f"{rate.value:.6g} {name_out} per {name_in} (base units)"
    whole = rate.value * 10 ** (info_in.decimals - info_out.decimals)
    return f"{whole:,.6g} {name_out} per {name_in}"


def readable(reason: str, tokens: Mapping[TokenAddress, TokenInfo]) -> str:
    """An explanation sentence with token symbols, amounts and rates in whole tokens (a
    ``Reason``'s parts); a plain sentence as it is."""
    if not isinstance(reason, Reason):
        return reason
    text = []
    for part in reason.parts:
        if isinstance(part, Token):
            info = tokens.get(part.address)
            text.append((info.symbol if info else None) or part.address)
        elif isinstance(part, Amount):
            text.append(_units(part.amount, part.token, tokens))
        elif isinstance(part, Rate):
            text.append(_rate(part, tokens))
        else:
            text.append(part)
    return "".join(text)


def format_route(route: Route, tokens: Mapping[TokenAddress, TokenInfo]) -> str:
    """A readable multi-line description of a route."""
    objective = route.buy_token if route.kind is OrderKind.SELL else route.sell_token
    lines = [
        f"{route.strategy} route ({route.kind.value} order): "
        f"{_units(route.amount_in, route.sell_token, tokens)} -> "
        f"{_units(route.amount_out, route.buy_token, tokens)}",
        f"  gas {route.gas} units = {_units(route.gas_cost, objective, tokens)}",
        f"  net {'output' if route.kind is OrderKind.SELL else 'input'} after gas: "
        f"{_units(route.net, objective, tokens)}",
        f"  price impact vs spot: {route.price_impact_bp:.2f} bp",
        "  legs:",
    ]
    for n, leg in enumerate(route.legs, 1):
        lines.append(
            f"    {n}. pool {leg.pool}: {_units(leg.amount_in, leg.token_in, tokens)} -> "
            f"{_units(leg.amount_out, leg.token_out, tokens)}"
        )
    lines.append("  why:")
    lines.extend(f"    - {readable(text, tokens)}" for text in route.explanation)
    return "\n".join(lines)


def _improvement_bp(route: Route, reference: Route) -> float:
    if route.kind is OrderKind.SELL:
        return (route.net - reference.net) / max(abs(reference.net), 1) * 1e4
    return (reference.net - route.net) / max(abs(reference.net), 1) * 1e4


def route_command(args: argparse.Namespace) -> int:
    """Entry point of ``tributary route``; 0 = routed, 1 = no route, 2 = bad input, 3 = a
    routing bug (reported as a coded error, its traceback logged at debug level)."""
    try:
        snapshot = load_snapshot(args.auction)
        sell = resolve_token(args.sell, snapshot.tokens)
        buy = resolve_token(args.buy, snapshot.tokens)
    except (OSError, ValueError) as exc:
        code = getattr(exc, "code", type(exc).__name__)
        print(f"error [{code}]: {exc}", file=sys.stderr)
        return 2
    kind = OrderKind(args.kind)
    try:
        graph = build_graph(snapshot)
        router = Router(graph, RouterConfig(max_hops=args.max_hops))
        started = time.perf_counter()
        route = router.route(sell, buy, args.amount, kind)
        elapsed_ms = (time.perf_counter() - started) * 1e3
        try:
            baseline: Route | None = baseline_route(graph, sell, buy, args.amount, kind)
        except NoRoute:
            baseline = None
    except NoRoute as exc:
        print(f"error [{exc.code}]: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # routing raises only NoRoute: anything else is a bug
        logger.debug("routing failed", exc_info=True)
        print(
            f"error [InternalError]: routing failed ({type(exc).__name__}: {exc})", file=sys.stderr
        )
        return 3
    if args.json:
        doc = route_to_json(route)
        doc["routingMs"] = round(elapsed_ms, 3)
        doc["baseline"] = None if baseline is None else route_to_json(baseline)
        print(json.dumps(doc, indent=2))
        return 0
    print(format_route(route, snapshot.tokens))
    print(f"  routed in {elapsed_ms:.1f} ms (graph built in {graph.build_seconds * 1e3:.0f} ms)")
    if baseline is None:
        print("baseline (CoW): no route over base tokens")
    else:
        print(
            f"baseline (CoW): net {baseline.net} over {len(baseline.legs)} legs; optimal is "
            f"{_improvement_bp(route, baseline):+.2f} bp better net of gas"
        )
    return 0
