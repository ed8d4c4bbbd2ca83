"""Our ``HooksTrampoline`` on the devnet, called as the settlement calls it: only the
settlement may call it, each hook runs with its own gas limit and from the trampoline, a
reverting or starving hook is reported (``HookFailed``, and ``false`` in the result) without
reverting the call, and a call that cannot forward a hook its gas fails as a whole."""

from __future__ import annotations

import pytest

from devnet.anvil import Devnet, Tx
from devnet.errors import DevnetError
from devnet.solidity import own_artifact
from intents.hooks import Hook
from intents.types import Address
from settlement.deployment import Deployment
from settlement.hooks import (
    EXECUTE_GAS,
    HOOK_GAS,
    execute_calldata,
    failed_hook_ids,
    hook_id,
    hooks_gas,
)

PROBE = own_artifact("HookProbe")


def as_settlement(node: Devnet, devnet: Deployment, hooks: list[Hook], gas: int) -> dict:
    """``execute(hooks)`` sent from the settlement's address (impersonated); its receipt."""
    assert devnet.hooks_trampoline is not None
    node.rpc("anvil_impersonateAccount", devnet.settlement)
    node.rpc("anvil_setBalance", devnet.settlement, hex(10**18))
    try:
        (receipt,) = node.send(
            [Tx(devnet.settlement, execute_calldata(hooks), devnet.hooks_trampoline, gas=gas)]
        )
    finally:
        node.rpc("anvil_stopImpersonatingAccount", devnet.settlement)
    return receipt


def probe_calls(node: Devnet, probe: Address) -> int:
    (calls,) = node.call(PROBE, probe, "calls")
    return int(calls)


def test_only_the_settlement_may_call_it(chain_state: Devnet, devnet: Deployment) -> None:
    (probe,) = chain_state.deploy_many([(PROBE, ())])
    hooks = [Hook(probe, PROBE.encode_call("poke"), 50_000)]
    assert devnet.hooks_trampoline is not None
    with pytest.raises(DevnetError):
        chain_state.send(
            [Tx(devnet.solver.address, execute_calldata(hooks), devnet.hooks_trampoline)]
        )
    assert probe_calls(chain_state, probe) == 0
    as_settlement(chain_state, devnet, hooks, 200_000)
    assert probe_calls(chain_state, probe) == 1
    (caller,) = chain_state.call(PROBE, probe, "lastCaller")
    assert caller.lower() == devnet.hooks_trampoline  # the hook runs as the trampoline


def test_failing_hooks_are_reported_and_the_others_run(
    chain_state: Devnet, devnet: Deployment
) -> None:
    (probe,) = chain_state.deploy_many([(PROBE, ())])
    poke = Hook(probe, PROBE.encode_call("poke"), 50_000)
    reverts = Hook(probe, PROBE.encode_call("fail"), 50_000)
    starved = Hook(probe, PROBE.encode_call("poke"), 10_000)  # two fresh slots need ~44k
    receipt = as_settlement(chain_state, devnet, [starved, reverts, poke, poke], 500_000)
    assert devnet.hooks_trampoline is not None
    assert failed_hook_ids(receipt, devnet.hooks_trampoline) == [hook_id(starved), hook_id(reverts)]
    assert probe_calls(chain_state, probe) == 2


def test_a_call_that_cannot_give_a_hook_its_gas_fails_whole(
    chain_state: Devnet, devnet: Deployment
) -> None:
    (probe,) = chain_state.deploy_many([(PROBE, ())])
    greedy = Hook(probe, PROBE.encode_call("poke"), 400_000)
    with pytest.raises(DevnetError):  # the poke alone would succeed with 200k
        as_settlement(chain_state, devnet, [greedy], 200_000)
    assert probe_calls(chain_state, probe) == 0
    as_settlement(chain_state, devnet, [greedy], 600_000)
    assert probe_calls(chain_state, probe) == 1


def test_declared_hooks_gas_covers_the_trampoline_call(
    chain_state: Devnet, devnet: Deployment
) -> None:
    """``hooks_gas`` (the limits, ``HOOK_GAS`` each, ``EXECUTE_GAS`` per call) against what
    ``execute`` costs when every hook uses up its whole limit (and so emits ``HookFailed``)."""
    (probe,) = chain_state.deploy_many([(PROBE, ())])
    burn = Hook(probe, PROBE.encode_call("burn"), 30_000)
    used = {
        n: int(as_settlement(chain_state, devnet, [burn] * n, 300_000)["gasUsed"], 16)
        for n in (1, 3)
    }
    per_hook = (used[3] - used[1]) // 2 - burn.gas_limit
    # from a settlement the trampoline is a cold account (2,600); the 21,000 is the tx's
    fixed = used[1] - 21_000 + 2_600 - burn.gas_limit - per_hook
    assert 0 < per_hook <= HOOK_GAS, per_hook
    assert 0 < fixed <= EXECUTE_GAS, fixed
    for n in (1, 3):
        assert 0 <= hooks_gas([burn] * n) - (used[n] - 21_000 + 2_600) <= 5_000
