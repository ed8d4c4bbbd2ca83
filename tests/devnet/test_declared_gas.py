"""Issue 11 item 6: the gas a settlement is declared with (``solver.model.settlement_gas``
over the legs' per-kind costs, ``routing.interaction_gas``) is within 10% of the receipt's
gasUsed when the settlement runs on the devnet with the published contracts.

Before the measured constants (base 7,365, trade 99,026, V2 leg 90,000 from the node's own
pools or 110,000 from an auction's gasEstimate): one V2 trade +17.1% (+29.0% at 110,000),
two trades through V2 +27.3%; one V3 trade -1.5% (110,000 was already close).
"""

from __future__ import annotations

import pytest

from bench.interaction_gas import SELL, deploy_pools, routed_gas
from bench.settlement_gas import fund_buffer, measure, signed_sell
from devnet.anvil import Devnet, Tx
from devnet.permit import permit_call
from devnet.solidity import own_artifact
from devnet.uniswap import UniswapV2, UniswapV3
from intents.hooks import Hook
from intents.types import Address
from routing.interaction_gas import UNISWAP_V2_GAS, UNISWAP_V3_GAS
from settlement.deployment import Deployment
from settlement.encoding import Settlement, token_indices
from settlement.hooks import failed_hook_ids, hooks_gas, hooks_interaction
from settlement.interactions import PoolKind
from solver.model import settlement_gas

TOLERANCE = 0.10
PERMIT_TOKEN = own_artifact("PermitToken")
PROBE = own_artifact("HookProbe")


def _within(declared: int, measured: int) -> bool:
    return abs(declared - measured) <= TOLERANCE * measured


@pytest.mark.parametrize(
    ("kind", "sells", "leg_gas"),
    [
        (PoolKind.UNISWAP_V2, [SELL], UNISWAP_V2_GAS),
        (PoolKind.UNISWAP_V3, [SELL], UNISWAP_V3_GAS),
        (PoolKind.UNISWAP_V2, [SELL, SELL // 2], UNISWAP_V2_GAS),
    ],
    ids=["v2-one-trade", "v3-one-trade", "v2-two-trades"],
)
def test_declared_gas_is_within_ten_percent_of_the_receipt(
    chain_state: Devnet,
    devnet: Deployment,
    uniswap_v2: UniswapV2,
    uniswap_v3: UniswapV3,
    kind: PoolKind,
    sells: list[int],
    leg_gas: int,
) -> None:
    pools = deploy_pools(chain_state, devnet, uniswap_v2, uniswap_v3)
    measured = routed_gas(chain_state, devnet, pools, kind, sells)
    declared = settlement_gas(len(sells), leg_gas)
    assert _within(declared, measured), (declared, measured)


def test_buffer_paid_trades_are_declared_within_ten_percent(
    chain_state: Devnet, devnet: Deployment
) -> None:
    """No interaction: the settlement's own base and per-trade cost, for 1, 2 and 5 trades."""
    fund_buffer(chain_state, devnet)
    for n in (1, 2, 5):
        measured, _ = measure(chain_state, devnet, n)
        assert _within(settlement_gas(n, 0), measured), (n, settlement_gas(n, 0), measured)


def test_hooks_are_declared_within_ten_percent(chain_state: Devnet, devnet: Deployment) -> None:
    """A buffer-paid trade with a permit pre-hook and a post-hook, each with a wallet's gas
    limit (a fifth over what it uses: the permit runs in 51,001, the poke in 44,477):
    ``settlement_gas`` plus ``hooks_gas`` of each stage (what ``solver.order_hooks.
    with_hooks_gas`` adds) against the receipt. Measured 2026-12-07: declared 262,609,
    gasUsed 243,649 (+7.8%)."""
    assert devnet.hooks_trampoline is not None
    fund_buffer(chain_state, devnet)
    token, probe = chain_state.deploy_many([(PERMIT_TOKEN, ("Permit Token", "TKP")), (PROBE, ())])
    owner = devnet.accounts[0]
    pre = [
        Hook(Address(token), permit_call(chain_state, token, owner, devnet.vault_relayer), 62_000)
    ]
    post = [Hook(probe, PROBE.encode_call("poke"), 54_000)]
    a, b = devnet.tokens["TKA"], devnet.tokens["TKB"]
    valid_to = int(chain_state.w3.eth.get_block("latest")["timestamp"]) + 3600
    trade = signed_sell(devnet, owner, a, b, 10**18, 10**18, valid_to, token_indices((a, b)))
    settlement = Settlement(
        tokens=(a, b),
        clearing_prices=(1, 1),
        trades=(trade,),
        pre=(hooks_interaction(devnet.hooks_trampoline, pre),),
        post=(hooks_interaction(devnet.hooks_trampoline, post),),
    )
    (receipt,) = chain_state.send(
        [Tx(devnet.solver.address, settlement.calldata(), devnet.settlement, gas=2_000_000)]
    )
    assert not failed_hook_ids(receipt, devnet.hooks_trampoline)  # both hooks ran
    measured = int(receipt["gasUsed"], 16)
    declared = settlement_gas(1, 0) + hooks_gas(pre) + hooks_gas(post)
    assert _within(declared, measured), (declared, measured)
