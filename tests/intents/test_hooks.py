"""An order's hooks from its app data (``intents.hooks``) and how order creation checks them
(``OrderValidator`` with a fake ``HookSimulator``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intents.chain import FakeChain
from intents.errors import ErrorCode, OrderError
from intents.hooks import NO_HOOKS, Hook, Hooks, hooks_of
from intents.types import Address
from intents.validation import OrderValidator
from tests.intents.test_validation import (
    NOW,
    OWNER,
    SELL,
    SEPARATOR,
    FakeBook,
    _creation,
    _funded,
    _order,
)

TARGET = Address("0x" + "7a" * 20)

hooks_strategy = st.lists(
    st.builds(
        Hook,
        target=st.binary(min_size=20, max_size=20).map(lambda b: Address("0x" + b.hex())),
        call_data=st.binary(max_size=100),
        gas_limit=st.integers(1, 2**64 - 1),
    ),
    max_size=4,
)


def document(pre: list[object] = (), post: list[object] = ()) -> str:  # type: ignore[assignment]
    return json.dumps({"metadata": {"hooks": {"pre": list(pre), "post": list(post)}}})


def wire(hook: Hook) -> dict[str, str]:
    return {
        "target": hook.target,
        "callData": "0x" + hook.call_data.hex(),
        "gasLimit": str(hook.gas_limit),
    }


@given(pre=hooks_strategy, post=hooks_strategy)
def test_hooks_read_back_as_written(pre: list[Hook], post: list[Hook]) -> None:
    hooks = hooks_of(document([wire(h) for h in pre], [wire(h) for h in post]))
    assert hooks == Hooks(tuple(pre), tuple(post))
    assert hooks.gas_limit == sum(h.gas_limit for h in pre + post)
    assert bool(hooks) == bool(pre or post)


def test_documents_without_hooks_have_none() -> None:
    for text in (
        None,
        "{}",
        '{"metadata":{}}',
        '{"metadata":{"hooks":{}}}',
        "[1]",
        '{"metadata":3}',
    ):
        assert hooks_of(text) == NO_HOOKS
    # CoW's schema also names the dApp; unknown keys are ignored, a JSON integer limit is fine
    hook = {
        "target": TARGET.upper().replace("0X", "0x"),
        "callData": "0x",
        "gasLimit": 21000,
        "dappId": "x",
    }
    assert hooks_of(document(post=[hook])).post == (Hook(TARGET, b"", 21000),)


@pytest.mark.parametrize(
    ("hooks", "named"),
    [
        ([], "metadata.hooks must be an object"),
        ({"pre": {}}, "metadata.hooks.pre must be a list"),
        ({"post": [1]}, "metadata.hooks.post[0] must be an object"),
        ({"pre": [{"target": "0x12", "callData": "0x", "gasLimit": "1"}]}, "pre[0].target"),
        ({"pre": [{"target": TARGET, "callData": "0xabc", "gasLimit": "1"}]}, "pre[0].callData"),
        ({"pre": [{"target": TARGET, "callData": "0x", "gasLimit": "0"}]}, "pre[0].gasLimit"),
        ({"pre": [{"target": TARGET, "callData": "0x", "gasLimit": "-5"}]}, "pre[0].gasLimit"),
        ({"pre": [{"target": TARGET, "callData": "0x", "gasLimit": str(2**64)}]}, "gasLimit"),
        ({"pre": [{"target": TARGET, "callData": "0x", "gasLimit": True}]}, "gasLimit"),
    ],
)
def test_malformed_hooks_are_invalid_app_data(hooks: object, named: str) -> None:
    with pytest.raises(OrderError) as error:
        hooks_of(json.dumps({"metadata": {"hooks": hooks}}))
    assert error.value.code is ErrorCode.INVALID_APP_DATA
    assert named in error.value.description


@dataclass
class FakeHooks:
    """Succeeds but for the hooks in ``failing``; records what it simulated."""

    failing: set[Hook] = field(default_factory=set)
    simulated: list[list[Hook]] = field(default_factory=list)

    async def simulate_hooks(self, hooks: list[Hook]) -> list[bool]:
        self.simulated.append(list(hooks))
        return [h not in self.failing for h in hooks]


def validator(chain: FakeChain, hooks: FakeHooks | None) -> OrderValidator:
    return OrderValidator(
        domain_separator=SEPARATOR, chain=chain, book=FakeBook(), clock=lambda: NOW, hooks=hooks
    )


PERMIT = Hook(TARGET, b"\xd5\x05\xac\xcf", 80_000)
POKE = Hook(Address("0x" + "70" * 20), b"\x18\x17\x83\x58", 50_000)


async def test_hooks_are_simulated_pre_then_post_and_a_failing_one_refused() -> None:
    fake = FakeHooks()
    text = document([wire(PERMIT)], [wire(POKE)])
    stored = await validator(_funded(FakeChain()), fake).validate(
        _creation(_order(), app_data=text)
    )
    assert stored.app_data_json == text
    assert fake.simulated == [[PERMIT, POKE]]
    fake.failing = {POKE}
    with pytest.raises(OrderError) as error:
        await validator(_funded(FakeChain()), fake).validate(_creation(_order(), app_data=text))
    assert error.value.code is ErrorCode.HOOK_SIMULATION_FAILED
    assert "post-hook 0" in error.value.description and POKE.target in error.value.description


async def test_hooks_asking_too_much_gas_are_refused_unsimulated() -> None:
    fake = FakeHooks()
    greedy = Hook(POKE.target, POKE.call_data, 4_000_001)
    text = document([wire(greedy)], [wire(Hook(POKE.target, POKE.call_data, 4_000_000))])
    with pytest.raises(OrderError) as error:
        await validator(_funded(FakeChain()), fake).validate(_creation(_order(), app_data=text))
    assert error.value.code is ErrorCode.TOO_MUCH_GAS
    assert fake.simulated == []
    text = document([wire(greedy)], [wire(Hook(POKE.target, POKE.call_data, 3_999_999))])
    await validator(_funded(FakeChain()), fake).validate(_creation(_order(), app_data=text))


async def test_hooks_are_refused_by_a_node_without_a_trampoline() -> None:
    text = document(post=[wire(POKE)])
    with pytest.raises(OrderError) as error:
        await validator(_funded(FakeChain()), None).validate(_creation(_order(), app_data=text))
    assert error.value.code is ErrorCode.HOOKS_UNSUPPORTED
    # an order without hooks is welcome there
    await validator(_funded(FakeChain()), None).validate(_creation(_order(), app_data=document()))


async def test_a_pre_hook_stands_in_for_the_allowance_not_the_balance() -> None:
    chain = FakeChain()
    chain.balances[(OWNER, SELL)] = 10**30  # no allowance at all
    with_permit = document([wire(PERMIT)])
    await validator(chain, FakeHooks()).validate(_creation(_order(), app_data=with_permit))
    with pytest.raises(OrderError) as error:  # a post-hook grants nothing before the trade
        await validator(chain, FakeHooks()).validate(
            _creation(_order(), app_data=document(post=[wire(POKE)]))
        )
    assert error.value.code is ErrorCode.INSUFFICIENT_ALLOWANCE
    poor = FakeChain()
    with pytest.raises(OrderError) as error:
        await validator(poor, FakeHooks()).validate(_creation(_order(), app_data=with_permit))
    assert error.value.code is ErrorCode.INSUFFICIENT_BALANCE
