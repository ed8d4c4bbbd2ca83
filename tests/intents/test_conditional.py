"""Conditional orders without a chain: TWAP parts as ComposableCoW's ``orderFor`` builds
them, the parameter checks, who may create and cancel (the trust model), and storage on
both book adapters (parts, history, a release racing a cancellation)."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from intents.book import OrderBook, open_book
from intents.chain import FakeChain
from intents.conditional import Twap, check_params, parts_of, scale_price, static_input
from intents.conditional_auth import ConditionalAuthorizer
from intents.conditional_store import PartStatus
from intents.conditional_wire import (
    GoodAfterTimeParams,
    StopLossParams,
    TwapParams,
    conditional_view,
)
from intents.eip712 import domain_separator
from intents.errors import ErrorCode, OrderError, SignatureError
from intents.order import OrderKind
from intents.signing import address_of
from intents.types import Address, TokenAddress
from intents.wire import U256, encode
from tests.intents.conditional_helpers import eoa_creation, wallet_creation
from tests.intents.test_store import NOW, book

__all__ = ["book"]

SEPARATOR = domain_separator(31337, Address("0x" + "9008" * 10))
KEY = bytes(31) + b"\x07"
OTHER_KEY = bytes(31) + b"\x08"
OWNER = address_of(KEY)
SELL, BUY = "0x" + "c0" * 20, "0x" + "d0" * 20
APP_DATA = "0x" + "00" * 32
T0 = int(NOW) + 100


def twap(n: int = 4, t: int = 600, span: int = 0, t0: int = T0) -> TwapParams:
    return TwapParams(
        sell_token=SELL, buy_token=BUY,
        part_sell_amount=U256(10**18), min_part_limit=U256(9 * 10**17),
        t0=t0, n=n, t=t, span=span, app_data=APP_DATA,
    )  # fmt: skip


def authorizer(chain: FakeChain | None = None) -> ConditionalAuthorizer:
    return ConditionalAuthorizer(
        domain_separator=SEPARATOR, chain=chain or FakeChain(), clock=lambda: NOW
    )


@given(
    n=st.integers(2, 50),
    t=st.integers(1, 365 * 86400),
    span_share=st.integers(0, 100),
    t0=st.integers(1, 2**31),
)
def test_twap_parts_tile_the_schedule_without_overlap(
    n: int, t: int, span_share: int, t0: int
) -> None:
    span = t * span_share // 100
    params = twap(n, t, span, t0).to_params()
    check_params(params)
    parts = parts_of(params)
    assert [p.index for p in parts] == list(range(n))
    for i, part in enumerate(parts):
        assert part.not_before == t0 + i * t
        assert part.order.valid_to == t0 + i * t + (span or t) - 1
        assert part.order.sell_amount == 10**18 and part.order.buy_amount == 9 * 10**17
        if i:  # a part starts only once the previous one's window is over
            assert part.not_before > parts[i - 1].order.valid_to
    assert len(static_input(params)) == 10 * 32


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"n": 1}, "n (the number of parts)"),
        ({"t": 0}, "t (seconds between parts)"),
        ({"span": 601}, "span must be at most t"),
        ({"t0": 0}, "t0 must be a positive"),
        ({"buy_token": SELL}, "must differ"),
        ({"min_part_limit": 0}, "minPartLimit"),
    ],
)
def test_invalid_twaps_are_refused_with_a_sentence(change: dict[str, int], words: str) -> None:
    params = msgspec.structs.replace(twap(), **change).to_params()
    with pytest.raises(OrderError) as refused:
        check_params(params)
    assert refused.value.code is ErrorCode.INVALID_CONDITIONAL_ORDER
    assert words in refused.value.description


def test_oracle_prices_scale_to_18_decimals() -> None:
    assert scale_price(2000 * 10**8, 8) == 2000 * 10**18
    assert scale_price(123456789, 20) == 1234567  # rounds down
    assert scale_price(5, 18) == 5


async def test_an_eoa_signs_every_part_up_front() -> None:
    stored = await authorizer().authorize(eoa_creation(SEPARATOR, twap(), KEY))
    assert (
        stored.owner == OWNER
        and len(stored.id) == 52
        and stored.id[32:] == bytes.fromhex(OWNER[2:])
    )
    assert [p.status for p in stored.parts] == [PartStatus.PENDING] * 4
    missing = msgspec.structs.replace(eoa_creation(SEPARATOR, twap(), KEY), part_signatures=[])
    with pytest.raises(OrderError, match="signs every part up front"):
        await authorizer().authorize(missing)
    other = eoa_creation(SEPARATOR, twap(), OTHER_KEY).part_signatures
    mixed = msgspec.structs.replace(
        eoa_creation(SEPARATOR, twap(), KEY),
        part_signatures=[*other[:1], *eoa_creation(SEPARATOR, twap(), KEY).part_signatures[1:]],
    )
    with pytest.raises(SignatureError, match="part 0") as refused:
        await authorizer().authorize(mixed)
    assert refused.value.code is ErrorCode.INVALID_SIGNATURE


async def test_a_wallet_authorizes_on_chain_and_signs_no_part_up_front() -> None:
    wallet = Address("0x" + "e1" * 20)
    creation = wallet_creation(twap(), wallet)
    with pytest.raises(SignatureError) as refused:
        await authorizer().authorize(creation)  # the wallet does not accept the digest
    assert refused.value.code is ErrorCode.INVALID_EIP1271_SIGNATURE
    digest = bytes.fromhex(refused.value.description.split("0x")[-1])
    chain = FakeChain(eip1271_valid={(wallet, digest, b"")})
    stored = await authorizer(chain).authorize(creation)
    assert stored.owner == wallet and stored.document.part_signatures == (b"",) * 4


async def test_a_part_that_would_end_too_soon_is_refused() -> None:
    with pytest.raises(OrderError) as refused:  # each part lives t - 1 = 29 s < 60 s
        await authorizer().authorize(eoa_creation(SEPARATOR, twap(t=30), KEY))
    assert refused.value.code is ErrorCode.INSUFFICIENT_VALID_TO


async def test_storage_keeps_parts_history_and_a_cancellation_wins_or_loses_whole(
    book: OrderBook,
) -> None:
    stored = await authorizer().authorize(eoa_creation(SEPARATOR, twap(), KEY))
    await book.insert_conditional(stored)
    with pytest.raises(OrderError) as duplicate:
        await book.insert_conditional(stored)
    assert duplicate.value.code is ErrorCode.DUPLICATED_ORDER
    assert [c.id for c in await book.active_conditionals()] == [stored.id]
    uid = b"\x01" * 56
    assert await book.release_part(stored.id, 0, uid, NOW + 1)
    assert not await book.release_part(stored.id, 0, b"\x02" * 56, NOW + 2)  # once only
    await book.note_part(stored.id, 1, "StrikeNotReached", NOW + 3)
    await book.note_part(stored.id, 1, "StrikeNotReached", NOW + 4)  # unchanged: no entry
    assert await book.cancel_conditional(stored.id, NOW + 5) == [1, 2, 3]
    assert not await book.release_part(stored.id, 1, uid, NOW + 6)  # cancelled: never
    with pytest.raises(OrderError) as again:
        await book.cancel_conditional(stored.id, NOW + 7)
    assert again.value.code is ErrorCode.ALREADY_CANCELLED
    got = await book.get_conditional(stored.id)
    assert got is not None and got.status == "cancelled"
    assert [(p.status, p.uid) for p in got.parts] == [
        (PartStatus.RELEASED, uid),
        *[(PartStatus.CANCELLED, None)] * 3,
    ]
    assert [(h.event, h.part) for h in got.history] == [
        ("created", None),
        ("released", 0),
        ("waiting", 1),
        ("cancelled", None),
    ]
    assert got.document == stored.document
    assert await book.active_conditionals() == []
    assert [c.id for c in await book.conditionals_by_owner(OWNER)] == [stored.id]
    view = msgspec.json.decode(encode(conditional_view(got, {})))
    assert view["status"] == "cancelled" and view["params"]["kind"] == "twap"
    assert [p["notBefore"] for p in view["parts"]] == [T0 + 600 * i for i in range(4)]


async def test_an_expired_part_finishes_the_order(book: OrderBook) -> None:
    params = StopLossParams(
        sell_token=SELL, buy_token=BUY, sell_amount=U256(10**18), buy_amount=U256(10**17),
        app_data=APP_DATA, valid_to=int(NOW) + 3600, strike=U256(10**18),
        max_time_since_last_oracle_update=600,
    )  # fmt: skip
    stored = await authorizer().authorize(eoa_creation(SEPARATOR, params, KEY))
    assert isinstance(stored.document.params.sell_token, str)
    await book.insert_conditional(stored)
    assert await book.expire_part(stored.id, 0, NOW + 3601)
    got = await book.get_conditional(stored.id)
    assert got is not None and got.status == "finished"
    with pytest.raises(OrderError) as refused:
        await book.cancel_conditional(stored.id, NOW + 3602)
    assert refused.value.code is ErrorCode.ORDER_FULLY_EXECUTED
    assert isinstance(got.document.params, type(params.to_params()))
    assert not isinstance(got.document.params, Twap)
    assert TokenAddress(SELL) == got.document.params.sell_token


def good_after_time(start: int, valid_to: int) -> GoodAfterTimeParams:
    return GoodAfterTimeParams(
        sell_token=SELL, buy_token=BUY, sell_amount=U256(10**18), buy_amount=U256(10**17),
        valid_to=valid_to, app_data=APP_DATA, order_kind=OrderKind.BUY, start_time=start,
    )  # fmt: skip


def test_good_after_time_is_one_order_due_at_its_start() -> None:
    params = good_after_time(T0, T0 + 3600).to_params()
    check_params(params)
    [part] = parts_of(params)
    assert (part.not_before, part.order.valid_to, part.order.kind) == (T0, T0 + 3600, "buy")
    assert part.trigger is None and part.order.fee_amount == 0
    with pytest.raises(OrderError, match="startTime must lie before validTo"):
        check_params(good_after_time(T0 + 3600, T0 + 3600).to_params())


async def test_a_conditional_order_survives_a_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/book.db"
    stored = await authorizer().authorize(eoa_creation(SEPARATOR, twap(), KEY))
    first = await open_book(url)
    await first.insert_conditional(stored)
    await first.release_part(stored.id, 0, b"\x01" * 56, NOW)
    await first.close()
    again = await open_book(url)
    try:
        got = await again.get_conditional(stored.id)
    finally:
        await again.close()
    assert got is not None and got.document == stored.document
    assert [p.status for p in got.parts] == [PartStatus.RELEASED] + [PartStatus.PENDING] * 3
