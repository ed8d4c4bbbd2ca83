"""The releaser on a controlled clock, over both real books (SQLite, PostgreSQL) and the
node's validator (a fake chain): parts enter the book when due and never before, late parts
expire, a wallet's part waits for its EIP-1271 authorization, a stop-loss for its strike, a
cancelled order releases nothing."""

from __future__ import annotations

from typing import Any

import pytest

from intents.book import OrderBook
from intents.chain import FakeChain
from intents.conditional import StopLoss, conditional_digest, parts_of
from intents.conditional_auth import ConditionalAuthorizer
from intents.conditional_store import PartStatus
from intents.conditional_wire import StopLossParams
from intents.eip712 import order_digest, order_uid
from intents.errors import ErrorCode
from intents.http.quote import QuoteError
from intents.types import Address, TokenAddress
from intents.validation import OrderValidator
from intents.wire import U256
from settlement.jsonrpc import BatchingRpcClient, RpcReply
from settlement.price_oracle import LATEST_ROUND_DATA
from solver.conditional_prices import NodePrices
from solver.conditional_release import ConditionalReleaser, PriceUnavailable
from tests.intents.conditional_helpers import SALT, eoa_creation, wallet_creation
from tests.intents.test_conditional import (
    APP_DATA,
    BUY,
    KEY,
    NOW,
    OWNER,
    SELL,
    SEPARATOR,
    T0,
    good_after_time,
)
from tests.intents.test_conditional import twap as twap_params
from tests.intents.test_store import book

__all__ = ["book"]  # both book adapters


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    async def read(self) -> float:
        return self.now


class Prices:
    def __init__(self) -> None:
        self.price: int | None = None

    async def strike_price(self, stop: StopLoss, now: float) -> int:
        if self.price is None:
            raise PriceUnavailable("no answer yet")
        return self.price


WALLET = Address("0x" + "e1" * 20)


def funded_chain() -> FakeChain:
    chain = FakeChain()
    for owner in (OWNER, WALLET):
        chain.balances[(owner, TokenAddress(SELL))] = 10**30
        chain.allowances[(owner, TokenAddress(SELL))] = 10**30
    return chain


def releaser(
    book: OrderBook, chain: FakeChain, clock: Clock, prices: Prices
) -> ConditionalReleaser:
    validator = OrderValidator(domain_separator=SEPARATOR, chain=chain, book=book, clock=clock)
    return ConditionalReleaser(book=book, validator=validator, prices=prices, clock=clock.read)


def authorizer(chain: FakeChain, clock: Clock) -> ConditionalAuthorizer:
    return ConditionalAuthorizer(domain_separator=SEPARATOR, chain=chain, clock=clock)


async def test_parts_enter_the_book_when_due_and_never_before(book: OrderBook) -> None:
    clock, chain = Clock(NOW), funded_chain()
    stored = await authorizer(chain, clock).authorize(eoa_creation(SEPARATOR, twap_params(), KEY))
    await book.insert_conditional(stored)
    run = releaser(book, chain, clock, Prices())
    parts = parts_of(stored.document.params)
    released_at: dict[int, float] = {}
    for step in range(4 * 600 // 150 + 1):  # every 150 s from before t0 to past the last part
        clock.now = T0 - 100 + step * 150
        await run.tick()
        current = await book.get_conditional(stored.id)
        assert current is not None
        for part, state in zip(parts, current.parts, strict=True):
            uid = order_uid(order_digest(SEPARATOR, part.order), OWNER, part.order.valid_to)
            in_book = await book.get(uid) is not None
            assert in_book == (state.status is PartStatus.RELEASED)
            if in_book:
                assert state.uid == uid and clock.now >= part.not_before  # never early
                released_at.setdefault(part.index, clock.now)
    assert sorted(released_at) == [0, 1, 2, 3]
    for index, at in released_at.items():  # released at the first tick at or after it was due
        assert parts[index].not_before <= at < parts[index].not_before + 150


async def test_a_part_not_released_in_its_window_expires(book: OrderBook) -> None:
    clock, chain = Clock(NOW), funded_chain()
    stored = await authorizer(chain, clock).authorize(eoa_creation(SEPARATOR, twap_params(), KEY))
    await book.insert_conditional(stored)
    clock.now = T0 + 2 * 600 + 1  # parts 0 and 1 are over, part 2 is due
    assert len(await releaser(book, chain, clock, Prices()).tick()) == 1
    current = await book.get_conditional(stored.id)
    assert current is not None
    assert [p.status for p in current.parts] == [
        PartStatus.EXPIRED,
        PartStatus.EXPIRED,
        PartStatus.RELEASED,
        PartStatus.PENDING,
    ]


async def test_a_wallet_part_waits_for_its_authorization(book: OrderBook) -> None:
    clock, chain = Clock(NOW), funded_chain()
    creation = wallet_creation(twap_params(), WALLET)
    params = creation.params.to_params()
    chain.eip1271_valid.add((WALLET, conditional_digest(SEPARATOR, params, b"\x5a" * 32), b""))
    stored = await authorizer(chain, clock).authorize(creation)
    await book.insert_conditional(stored)
    run = releaser(book, chain, clock, Prices())
    clock.now = T0
    assert await run.tick() == []
    current = await book.get_conditional(stored.id)
    assert current is not None and current.parts[0].reason is not None
    assert current.parts[0].reason.startswith("InvalidEip1271Signature")
    part = parts_of(params)[0]
    chain.eip1271_valid.add((WALLET, order_digest(SEPARATOR, part.order), b""))
    [uid] = await run.tick()
    released = await book.get(uid)
    assert released is not None and released.owner == WALLET
    assert released.signing_scheme == "eip1271"


async def test_a_stop_loss_waits_for_its_strike_and_a_cancelled_one_never_fires(
    book: OrderBook,
) -> None:
    clock, chain, prices = Clock(NOW), funded_chain(), Prices()
    run = releaser(book, chain, clock, prices)
    ids = []
    for salt in ("0x" + "01" * 32, "0x" + "02" * 32):
        params = StopLossParams(
            sell_token=SELL, buy_token=BUY, sell_amount=U256(10**18), buy_amount=U256(10**17),
            app_data=APP_DATA, valid_to=int(NOW) + 3600, strike=U256(10**18),
            max_time_since_last_oracle_update=600,
        )  # fmt: skip
        stored = await authorizer(chain, clock).authorize(
            eoa_creation(SEPARATOR, params, KEY, salt=salt)
        )
        await book.insert_conditional(stored)
        ids.append(stored.id)
    assert await run.tick() == []  # no price
    prices.price = 10**18 + 1
    assert await run.tick() == []  # above the strike
    waiting = await book.get_conditional(ids[0])
    assert waiting is not None and (waiting.parts[0].reason or "").startswith("StrikeNotReached")
    await book.cancel_conditional(ids[1], clock.now)
    prices.price = 10**18
    [uid] = await run.tick()
    fired = await book.get_conditional(ids[0])
    assert fired is not None and fired.parts[0].uid == uid
    cancelled = await book.get_conditional(ids[1])
    assert cancelled is not None and cancelled.parts[0].status is PartStatus.CANCELLED


async def test_a_good_after_time_order_waits_for_its_start(book: OrderBook) -> None:
    clock, chain = Clock(NOW), funded_chain()
    params = good_after_time(T0, T0 + 3600)
    stored = await authorizer(chain, clock).authorize(eoa_creation(SEPARATOR, params, KEY))
    await book.insert_conditional(stored)
    run = releaser(book, chain, clock, Prices())
    clock.now = T0 - 1
    assert await run.tick() == []
    clock.now = T0
    [uid] = await run.tick()
    assert (await book.get(uid)) is not None


async def test_without_oracles_the_auction_prices_decide() -> None:
    prices = {TokenAddress(SELL): 3 * 10**15, TokenAddress(BUY): 2 * 10**15}

    async def native(token: TokenAddress) -> int | None:
        return prices.get(token)

    stop = StopLossParams(
        sell_token=SELL, buy_token=BUY, sell_amount=U256(10**18), buy_amount=U256(10**17),
        app_data=APP_DATA, valid_to=int(NOW) + 3600, strike=U256(10**18),
        max_time_since_last_oracle_update=600,
    ).to_params()  # fmt: skip
    assert stop.uses_auction_prices
    async with BatchingRpcClient("http://127.0.0.1:9") as unused:  # no oracle is read
        source = NodePrices(unused, native)
        assert await source.strike_price(stop, NOW) == 15 * 10**17  # 3/2, 18 decimals
        del prices[TokenAddress(BUY)]
        with pytest.raises(PriceUnavailable, match="no auction price"):
            await source.strike_price(stop, NOW)
        with pytest.raises(PriceUnavailable, match="no auctions"):
            await NodePrices(unused, None).strike_price(stop, NOW)


class OracleRpc:
    """Answers ``latest_answers``' batch as two aggregators would: ``rounds`` maps an
    oracle to (answer, updatedAt, decimals)."""

    def __init__(self, rounds: dict[str, tuple[int, int, int]]) -> None:
        self.rounds = rounds

    async def request_many(self, calls: list[tuple[str, list[Any]]]) -> list[RpcReply]:
        replies = []
        for i, (_, [call, _block]) in enumerate(calls):
            answer, updated_at, decimals = self.rounds[call["to"]]
            if call["data"] == "0x" + LATEST_ROUND_DATA.hex():
                words = [1, answer % 2**256, updated_at, updated_at, 1]
            else:
                words = [decimals]
            data = b"".join(w.to_bytes(32, "big") for w in words)
            replies.append(RpcReply(id=i, result="0x" + data.hex()))
        return replies


SELL_ORACLE = "0x" + "5e" * 20
BUY_ORACLE = "0x" + "b0" * 20


def oracle_stop_loss() -> StopLoss:
    return StopLossParams(
        sell_token=SELL, buy_token=BUY, sell_amount=U256(10**18), buy_amount=U256(10**17),
        app_data=APP_DATA, valid_to=int(NOW) + 3600, strike=U256(10**18),
        max_time_since_last_oracle_update=600, sell_token_price_oracle=SELL_ORACLE,
        buy_token_price_oracle=BUY_ORACLE,
    ).to_params()  # fmt: skip


@pytest.mark.parametrize(
    "buy_round",
    [
        (1, int(NOW), 19),  # scales to 0 at 18 decimals: StopLoss's division reverts
        (10**8, int(NOW), 300),  # decimals() is a uint8 on an aggregator
    ],
)
async def test_an_oracle_answer_no_price_can_be_made_of_is_unavailable(
    buy_round: tuple[int, int, int],
) -> None:
    """An owner picks the oracles: one answering nonsense must leave the part waiting, not
    raise out of the releaser (a ZeroDivisionError ended its task, for every order)."""
    rpc = OracleRpc({SELL_ORACLE: (2000 * 10**8, int(NOW), 8), BUY_ORACLE: buy_round})
    with pytest.raises(PriceUnavailable):
        await NodePrices(rpc, None).strike_price(oracle_stop_loss(), NOW)  # type: ignore[arg-type]
    rpc.rounds[BUY_ORACLE] = (10**8, int(NOW), 8)  # a sane answer: the price is 2000
    assert await NodePrices(rpc, None).strike_price(oracle_stop_loss(), NOW) == 2000 * 10**18  # type: ignore[arg-type]


class NoLiquidityYet:
    """The node's auction prices before its liquidity is loaded: ``AttachedMarket`` raises
    a ``QuoteError`` (an ``OrderError``), not ``PriceUnavailable``."""

    async def strike_price(self, stop: StopLoss, now: float) -> int:
        raise QuoteError(ErrorCode.NO_LIQUIDITY, "the node has not loaded liquidity yet")


async def test_one_order_failing_holds_up_no_other(book: OrderBook) -> None:
    clock, chain = Clock(T0), funded_chain()
    stop = StopLossParams(
        sell_token=SELL, buy_token=BUY, sell_amount=U256(10**18), buy_amount=U256(10**17),
        app_data=APP_DATA, valid_to=T0 + 3600, strike=U256(10**18),
        max_time_since_last_oracle_update=600,
    )  # fmt: skip
    for params, salt in ((stop, "0x" + "01" * 32), (good_after_time(T0, T0 + 3600), SALT)):
        creation = eoa_creation(SEPARATOR, params, KEY, salt=salt)
        await book.insert_conditional(await authorizer(chain, clock).authorize(creation))
    validator = OrderValidator(domain_separator=SEPARATOR, chain=chain, book=book, clock=clock)
    run = ConditionalReleaser(
        book=book, validator=validator, prices=NoLiquidityYet(), clock=clock.read
    )
    [uid] = await run.tick()  # the stop-loss (stored first) fails; the other is released
    released = await book.get(uid)
    assert released is not None and released.order.valid_to == T0 + 3600


@pytest.mark.parametrize("then_cancelled", [False, True])
async def test_a_part_claimed_but_not_inserted_before_a_crash_is_restored(
    book: OrderBook, then_cancelled: bool
) -> None:
    """``release_part`` committed, then the node died before ``insert``: the next leader's
    ``recover`` puts the order in the book — also when that was the order's last part or
    the owner cancelled after the claim (no part pending: it is not ``active`` any more)."""
    clock, chain = Clock(T0), funded_chain()
    params = good_after_time(T0, T0 + 3600) if not then_cancelled else twap_params()
    stored = await authorizer(chain, clock).authorize(eoa_creation(SEPARATOR, params, KEY))
    await book.insert_conditional(stored)
    part = parts_of(stored.document.params)[0]
    uid = order_uid(order_digest(SEPARATOR, part.order), OWNER, part.order.valid_to)
    assert await book.release_part(stored.id, 0, uid, clock.now)  # the claim, then the crash
    if then_cancelled:
        await book.cancel_conditional(stored.id, clock.now)
    assert await book.get(uid) is None
    await releaser(book, chain, clock, Prices()).recover()
    restored = await book.get(uid)
    assert restored is not None and restored.owner == OWNER
    assert await book.unbooked_releases() == []
