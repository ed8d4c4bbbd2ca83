"""Gas a leg is declared with, per interaction kind.

A leg is declared with the fixed cost of its pool's kind, not with the auction's
``gasEstimate``: CoW's baseline solver does the same (``gas_cost()`` per liquidity kind,
e.g. 60,000 for a Uniswap V2 swap where the auction says 110,000), and on the devnet the
auction's figure over-declares a one-trade V2 settlement by 29% (216,391 against a
receipt of 167,733), which inflates limit-order fees.

Uniswap V2 and V3 are measured on the devnet with the real contracts
(``python -m bench.interaction_gas``, 2026-12-07): the interaction's gas is a one-trade
settlement through the pool minus a one-trade settlement paid from the buffer. The
other kinds are not deployed on the devnet and keep CoW's baseline figures, labelled so.
"""

from __future__ import annotations

UNISWAP_V2_GAS = 45_124
"""Measured: the settlement's ``transfer`` to the pair plus the pair's ``swap``."""
UNISWAP_V3_GAS = 97_015
"""Measured: the exact ``approve`` of the SwapRouter plus its ``exactInputSingle``."""
V2_AGAIN_GAS = 27_788
"""Measured: a further leg through a V2 pair the settlement already swapped (its storage
and the tokens' balance slots are warm)."""
V3_AGAIN_GAS = 63_056
"""Measured: a further leg through a V3 pool the settlement already swapped."""
BALANCER_WEIGHTED_GAS = 100_000
"""CoW's figure (``WEIGHTED_SWAP_GAS_COST``), not measured: no Balancer on the devnet."""
BALANCER_STABLE_GAS = 183_520
"""CoW's figure (``STABLE_SWAP_GAS_COST``), not measured: no Balancer on the devnet."""
FOREIGN_LIMIT_ORDER_GAS = 66_358
"""CoW's figure (``GAS_PER_ZEROEX_ORDER``), not measured: no 0x exchange on the devnet."""
