"""Why the optimizer answered as it did: one sentence per split leg and per dropped pool."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from routing.pool import TokenAddress
from routing.reason import Amount, Rate, Reason, Token
from routing.route import Leg, OrderKind, Route
from routing.split.model import SplitModel


def explain(model: SplitModel, legs: Sequence[Leg], *, gas_aware: bool = False) -> list[str]:
    """One sentence per leg: its share of the token's flow and its realised rate."""
    flow: dict[TokenAddress, int] = {}
    for leg in legs:
        flow[leg.token_in] = flow.get(leg.token_in, 0) + leg.amount_in
    texts = [
        "split by the "
        + ("gas-aware MIP (SCIP)" if gas_aware else "LP (GLOP)")
        + f" over {len(model.network.edges)} candidate pool edges"
    ]
    for leg in legs:
        share = leg.amount_in / flow[leg.token_in] * 100
        edge = next(
            e for e in model.network.edges if e.pool.id == leg.pool and e.token_in == leg.token_in
        )
        rate = leg.amount_out / leg.amount_in
        via = (Token(leg.token_in), f" via pool {leg.pool} to ", Token(leg.token_out))
        if share < 99.95:
            pair = (leg.token_in, leg.token_out)
            texts.append(
                Reason(
                    f"{share:.1f}% of ",
                    *via,
                    ": realised rate ",
                    Rate(rate, *pair),
                    " vs spot ",
                    Rate(edge.rate, *pair),
                    "; more would drop its marginal rate below the other pools'",
                )
            )
        else:
            texts.append(Reason("all of ", *via))
    return texts


def drop_note(before: Route, after: Route, how: str) -> str:
    """Why ``how`` dropped the pools of ``before`` missing from ``after``."""
    dropped = ", ".join(p for p in before.pools if p not in after.pools)
    if before.kind is OrderKind.SELL:
        token = before.buy_token
        gained = before.amount_out - after.amount_out
        effect: tuple[str | Amount, ...] = (
            "with them the split gave only ",
            Amount(gained, token),
            " more",
        )
    else:
        token = before.sell_token
        effect = (
            "with them the split saved only ",
            Amount(after.amount_in - before.amount_in, token),
        )
    return Reason(
        f"{how} dropped pool {dropped}: ", *effect, " of ", Token(token),
        f", less than their gas ({before.gas - after.gas} units = ",
        Amount(before.gas_cost - after.gas_cost, token),
        "); the flow goes through the remaining pools",
    )  # fmt: skip


def relabel(route: Route, explanation: Sequence[str]) -> Route:
    """``route`` as the optimizer's answer, with ``explanation``."""
    return replace(route, strategy="optimal", explanation=tuple(explanation))
