"""settle() calldata decodes, with the contract's published ABI, to exactly the model."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from web3 import Web3

from devnet.artifacts import load_artifact
from intents.order import (
    BuyTokenBalance,
    Order,
    OrderClass,
    OrderKind,
    SellTokenBalance,
    SigningScheme,
    StoredOrder,
)
from intents.types import Address, OrderUid, TokenAddress
from settlement.build import Execution, build_settlement
from settlement.encoding import (
    SETTLE_SELECTOR,
    EncodingError,
    Interaction,
    Settlement,
    Trade,
    TradeFlags,
    token_indices,
    trade_for_order,
)
from settlement.interactions import Leg, PoolKind, route_interactions

SETTLEMENT_ABI = load_artifact("@cowprotocol/contracts", "GPv2Settlement").abi
CONTRACT = Web3().eth.contract(abi=list(SETTLEMENT_ABI))

addresses = st.binary(min_size=20, max_size=20).map(lambda b: Address("0x" + b.hex()))
uint256 = st.integers(0, 2**256 - 1)
interactions = st.builds(Interaction, addresses, uint256, st.binary(max_size=80))
stages = st.lists(interactions, max_size=3).map(tuple)


@st.composite
def settlements(draw: st.DrawFn) -> Settlement:
    tokens = draw(st.lists(addresses, min_size=1, max_size=5, unique=True))
    index = st.integers(0, len(tokens) - 1)
    trade = st.builds(
        Trade,
        index,
        index,
        addresses,
        uint256,
        uint256,
        st.integers(0, 2**32 - 1),
        st.binary(min_size=32, max_size=32),
        uint256,
        st.integers(0, 127),
        uint256,
        st.binary(max_size=100),
    )
    return Settlement(
        tokens=tuple(TokenAddress(t) for t in tokens),
        clearing_prices=tuple(draw(st.lists(uint256, min_size=len(tokens), max_size=len(tokens)))),
        trades=tuple(draw(st.lists(trade, max_size=4))),
        pre=draw(stages),
        intra=draw(stages),
        post=draw(stages),
    )


@settings(max_examples=30, deadline=None)
@given(settlements())
def test_calldata_decodes_with_the_contract_abi_to_the_model(settlement: Settlement) -> None:
    calldata = settlement.calldata()
    assert calldata[:4] == SETTLE_SELECTOR
    function, args = CONTRACT.decode_function_input(calldata)
    assert function.fn_name == "settle"
    assert [t.lower() for t in args["tokens"]] == list(settlement.tokens)
    assert args["clearingPrices"] == list(settlement.clearing_prices)
    decoded_trades = [
        Trade(
            t["sellTokenIndex"],
            t["buyTokenIndex"],
            Address(t["receiver"].lower()),
            t["sellAmount"],
            t["buyAmount"],
            t["validTo"],
            t["appData"],
            t["feeAmount"],
            t["flags"],
            t["executedAmount"],
            t["signature"],
        )
        for t in args["trades"]
    ]
    assert decoded_trades == list(settlement.trades)
    decoded_stages = [
        tuple(Interaction(Address(i["target"].lower()), i["value"], i["callData"]) for i in stage)
        for stage in args["interactions"]
    ]
    assert decoded_stages == [settlement.pre, settlement.intra, settlement.post]


@settings(max_examples=30, deadline=None)
@given(settlements())
def test_calldata_equals_web3s_independent_encoding(settlement: Settlement) -> None:
    cs = Web3.to_checksum_address
    args = [
        [cs(t) for t in settlement.tokens],
        list(settlement.clearing_prices),
        [(*t.as_abi()[:2], cs(t.receiver), *t.as_abi()[3:]) for t in settlement.trades],
        [
            [(cs(i.target), i.value, i.call_data) for i in stage]
            for stage in (settlement.pre, settlement.intra, settlement.post)
        ],
    ]
    assert settlement.calldata().hex() == CONTRACT.encode_abi("settle", args).removeprefix("0x")


def _reference_flags(flags: TradeFlags) -> int:
    """The bit table of GPv2Trade.sol, written out by hand."""
    sell = {"erc20": 0x00, "external": 0x08, "internal": 0x0C}[flags.sell_token_balance]
    buy = {"erc20": 0x00, "internal": 0x10}[flags.buy_token_balance]
    scheme = {"eip712": 0x00, "ethsign": 0x20, "eip1271": 0x40, "presign": 0x60}[
        flags.signing_scheme
    ]
    kind = {"sell": 0, "buy": 1}[flags.kind]
    return kind | (0x02 if flags.partially_fillable else 0) | sell | buy | scheme


ALL_FLAGS = [
    TradeFlags(*combo)
    for combo in itertools.product(
        OrderKind, (False, True), SellTokenBalance, BuyTokenBalance, SigningScheme
    )
]


@pytest.mark.parametrize("flags", ALL_FLAGS, ids=lambda f: f"{f.encode():#04x}")
def test_flags_encode_to_the_contract_bit_table_and_back(flags: TradeFlags) -> None:
    word = flags.encode()
    assert word == _reference_flags(flags)
    assert TradeFlags.decode(word) == flags


def test_sell_balance_bits_01_read_as_erc20_like_the_contract() -> None:
    assert TradeFlags.decode(0x04).sell_token_balance is SellTokenBalance.ERC20


@pytest.mark.parametrize("word", [0x80, 0x100, -1])
def test_reserved_flag_bits_are_rejected(word: int) -> None:
    with pytest.raises(EncodingError):
        TradeFlags.decode(word)


OWNER = Address("0x" + "ab" * 20)


def test_trade_for_order_maps_tokens_and_flags() -> None:
    a, b = TokenAddress("0x" + "0a" * 20), TokenAddress("0x" + "0b" * 20)
    order = Order(
        sell_token=b,
        buy_token=a,
        receiver=Address("0x" + "00" * 20),
        sell_amount=10,
        buy_amount=20,
        valid_to=99,
        app_data=b"\x07" * 32,
        fee_amount=1,
        kind=OrderKind.BUY,
        partially_fillable=True,
    )
    trade = trade_for_order(order, token_indices([a, b]), SigningScheme.PRESIGN, OWNER, b"", 5)
    assert (trade.sell_token_index, trade.buy_token_index) == (1, 0)
    assert trade.flags == 0x01 | 0x02 | 0x60
    assert trade.executed_amount == 5
    assert trade.signature == b"\xab" * 20


def test_malformed_settlements_are_rejected() -> None:
    a = TokenAddress("0x" + "0a" * 20)
    with pytest.raises(EncodingError):
        token_indices([a, a])
    with pytest.raises(EncodingError):
        Settlement(tokens=(a,), clearing_prices=(), trades=())
    bad = Trade(0, 1, OWNER, 1, 1, 1, b"\x00" * 32, 0, 0, 0, b"")
    with pytest.raises(EncodingError):
        Settlement(tokens=(a,), clearing_prices=(1,), trades=(bad,))


def _stored(order: Order, scheme: SigningScheme, signature: bytes) -> StoredOrder:
    return StoredOrder(
        uid=OrderUid(bytes(56)),
        owner=OWNER,
        order=order,
        signing_scheme=scheme,
        signature=signature,
        order_class=OrderClass.LIMIT,
        creation_time=0.0,
    )


def test_build_settlement_from_book_orders_and_legs() -> None:
    a, b = TokenAddress("0x" + "0a" * 20), TokenAddress("0x" + "0b" * 20)
    pair, settlement = Address("0x" + "ee" * 20), Address("0x" + "dd" * 20)
    order = Order(
        sell_token=a,
        buy_token=b,
        receiver=Address("0x" + "00" * 20),
        sell_amount=10,
        buy_amount=20,
        valid_to=99,
        app_data=b"\x07" * 32,
        fee_amount=0,
        kind=OrderKind.SELL,
        partially_fillable=True,
    )
    stored = _stored(order, SigningScheme.EIP1271, b"\x01\x02")
    leg = Leg(PoolKind.UNISWAP_V2, pair, a, b, 4, 9)
    built = build_settlement([Execution(stored, 4)], {b: 4, a: 9}, [leg], settlement=settlement)
    assert built.tokens == (b, a) and built.clearing_prices == (4, 9)
    (trade,) = built.trades
    assert (trade.sell_token_index, trade.buy_token_index, trade.executed_amount) == (1, 0, 4)
    assert trade.signature == b"\xab" * 20 + b"\x01\x02"  # eip1271: owner ‖ signature
    assert built.intra == route_interactions([leg], settlement)
    assert built.pre == built.post == ()
    with pytest.raises(EncodingError, match="no clearing price"):
        build_settlement([Execution(stored)], {a: 1}, settlement=settlement)
