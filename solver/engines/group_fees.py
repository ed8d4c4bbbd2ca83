"""What the ``limit`` orders of a matched group pay for its gas: the solver fee of a CoW.

A group settled together is one settlement, whose gas is ``solver.model.settlement_gas(k,
g)`` for ``k`` trades and AMM legs costing ``g``: the base is paid once, each trade pays
its own part. Each trade's share is an equal ``1/k`` of it: its own ``TRADE_GAS`` plus
``1/k`` of the base and ``1/k`` of the AMM legs (every member takes part in the one
uniform price the legs balance, so every member is charged for them alike).

A ``limit`` order pays its share as its fee, in its sell token at the auction's gas price:

* **rounded up** to a whole base unit of the sell token, so the fees of a group of
  ``limit`` orders together never fall short of its declared gas at the auction's gas price
  (``sum(fee_i * price_i) >= settlement_gas(k, g) * gas_price * 10**18``); each user pays at
  most one base unit above its exact share;
* **never more than it would pay alone**: at most the fee of the cheapest settlement the
  order could be in alone (``gas_fee(settlement_gas(1, 0))``, rounded down as every lone
  fee is) when the group has no AMM legs, and with AMM legs at most the fee the per-order
  engine charges it routed alone (``settlement_gas(1, g)`` if it cannot be routed alone).
  Where this cap binds (rare: a long AMM path and a cheap lone route), the fees cover less
  than the declared gas and the solver carries the rest.

A ``market`` order pays no solver fee (CoW's rule, ``solver.checks``): its share is
carried by the solver as when it settles alone, and is not put on the ``limit`` members.
The fee is the same for a full and a partial fill: a trade's gas does not depend on its
size (CoW's baseline charges its fee so, too).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from solver.engines.cow import Clearing, Offer, with_fee
from solver.model import gas_fee, settlement_gas

PRICE_UNIT = 10**18
"""Reference prices are native wei for ``10**18`` base units."""

AloneFee = Callable[[int], int | None]
"""``key -> fee`` the order with that offer key pays routed alone, ``None`` if it cannot be."""


@dataclass(frozen=True, slots=True)
class GroupFees:
    """The fee rule of one group: ``prices`` the sell-token reference price of each
    ``limit`` member by offer key (market members are absent: no fee), ``alone`` the fee a
    member pays routed alone (asked only for groups with AMM legs)."""

    gas_price: int
    prices: Mapping[int, int]
    alone: AloneFee

    def fee(self, key: int, trades: int, interactions_gas: int) -> int:
        """The fee of member ``key`` in a settlement of ``trades`` trades whose AMM legs
        cost ``interactions_gas``."""
        price = self.prices.get(key)
        if not price or trades <= 0:
            return 0
        total = settlement_gas(trades, interactions_gas) * self.gas_price * PRICE_UNIT
        share = -(-total // (trades * price))  # rounded up: the fees cover the gas
        if interactions_gas == 0:
            cap = gas_fee(settlement_gas(1, 0), self.gas_price, price)
        else:
            cap = self.alone(key)
            if cap is None:
                cap = gas_fee(settlement_gas(1, interactions_gas), self.gas_price, price)
        return share if cap is None else min(share, cap)

    def charge(self, offers: Iterable[Offer], trades: int, interactions_gas: int) -> list[Offer]:
        """``offers`` charged their fees in a settlement of ``trades`` trades with AMM legs
        costing ``interactions_gas`` (an offer with nothing left after its fee is left out)."""
        charged = (with_fee(o, self.fee(o.key, trades, interactions_gas)) for o in offers)
        return [o for o in charged if o is not None]

    def settled(self, clearing: Clearing) -> bool:
        """Every fill of ``clearing`` pays exactly its fee for the clearing's own trades and
        AMM legs."""
        trades = len(clearing.fills)
        return all(f.fee == self.fee(f.offer.key, trades, clearing.gas) for f in clearing.fills)
