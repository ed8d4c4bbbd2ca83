"""OrderValidator: each of CoW's creation rules, with FakeChain and a fake book."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec
import pytest

from intents.appdata import resolve_app_data
from intents.chain import FakeChain
from intents.eip712 import domain_separator, order_digest, order_uid
from intents.errors import ErrorCode, OrderError
from intents.order import (
    BuyTokenBalance,
    Order,
    OrderClass,
    OrderStatus,
    SellTokenBalance,
    SigningScheme,
)
from intents.signing import address_of, sign
from intents.types import UINT256_MAX, Address
from intents.validation import NATIVE_TOKEN, OrderValidator, ValidationPolicy
from intents.wire import OrderCreation
from tests.intents.strategies import BUY, SELL, SETTLEMENT, plain_order

NOW = 1_900_000_000.0
SEPARATOR = domain_separator(31337, SETTLEMENT)
KEY = bytes.fromhex("59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")
OWNER = address_of(KEY)
SAFE = Address("0x" + "5a" * 20)  # a smart-contract wallet


@dataclass
class FakeBook:
    limit_orders: dict[Address, int] = field(default_factory=dict)
    queries: list[tuple[Address, float]] = field(default_factory=list)

    async def count_open_limit_orders(self, owner: Address, now: float) -> int:
        self.queries.append((owner, now))
        return self.limit_orders.get(owner, 0)


def _order(**changes: Any) -> Order:
    return plain_order(**{"valid_to": int(NOW) + 3600, **changes})


def _funded(chain: FakeChain, owner: Address = OWNER, amount: int = 10**30) -> FakeChain:
    chain.balances[(owner, SELL)] = amount
    chain.allowances[(owner, SELL)] = amount
    return chain


def _creation(
    order: Order,
    scheme: SigningScheme = SigningScheme.EIP712,
    *,
    key: bytes = KEY,
    app_data: str | None = None,
    **changes: Any,
) -> OrderCreation:
    if app_data is not None:
        order = msgspec.structs.replace(order, app_data=resolve_app_data(app_data).hash)
    signature = (
        sign(scheme, order_digest(SEPARATOR, order), key)
        if scheme
        in (
            SigningScheme.EIP712,
            SigningScheme.ETHSIGN,
        )
        else b""
    )
    creation = OrderCreation.from_order(
        order, signing_scheme=scheme, signature=signature, app_data=app_data
    )
    return msgspec.structs.replace(creation, **changes)


def _validator(
    chain: FakeChain | None = None, book: FakeBook | None = None, **policy: Any
) -> OrderValidator:
    return OrderValidator(
        domain_separator=SEPARATOR,
        chain=chain if chain is not None else _funded(FakeChain()),
        book=book if book is not None else FakeBook(),
        policy=ValidationPolicy(**policy),
        clock=lambda: NOW,
    )


async def _rejected(validator: OrderValidator, creation: OrderCreation) -> ErrorCode:
    with pytest.raises(OrderError) as excinfo:
        await validator.validate(creation)
    assert excinfo.value.description
    return excinfo.value.code


async def test_accepts_a_signed_order_ready_to_store() -> None:
    order = _order()
    stored = await _validator().validate(_creation(order, app_data='{"appCode":"t"}'))
    digest = order_digest(SEPARATOR, stored.order)
    assert stored.uid == order_uid(digest, OWNER, order.valid_to)
    assert stored.owner == OWNER
    assert stored.order.app_data == resolve_app_data('{"appCode":"t"}').hash
    assert stored.app_data_json == '{"appCode":"t"}'
    assert stored.order_class is OrderClass.LIMIT
    assert stored.status is OrderStatus.OPEN
    assert stored.creation_time == NOW
    assert stored.signing_scheme is SigningScheme.EIP712
    assert len(stored.signature) == 65


async def test_ethsign_and_market_orders() -> None:
    stored = await _validator().validate(
        _creation(_order(fee_amount=10**15), SigningScheme.ETHSIGN)
    )
    assert stored.order_class is OrderClass.MARKET
    assert stored.signing_scheme is SigningScheme.ETHSIGN


async def test_invalid_signature_and_wrong_owner() -> None:
    validator = _validator()
    creation = _creation(_order())
    tampered = msgspec.structs.replace(creation, sell_amount=creation.sell_amount + 1)
    # a changed order recovers a different (unfunded) address: WrongOwner when from is given
    assert (
        await _rejected(validator, msgspec.structs.replace(tampered, from_=OWNER))
        is ErrorCode.WRONG_OWNER
    )
    bad_v = creation.signature[:-2] + "1d"
    assert (
        await _rejected(validator, msgspec.structs.replace(creation, signature=bad_v))
        is ErrorCode.INVALID_SIGNATURE
    )
    other = "0x" + "77" * 20
    assert (
        await _rejected(validator, msgspec.structs.replace(creation, from_=other))
        is ErrorCode.WRONG_OWNER
    )


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"sell_amount": 0}, ErrorCode.ZERO_AMOUNT),
        ({"buy_amount": 0}, ErrorCode.ZERO_AMOUNT),
        ({"sell_amount": UINT256_MAX, "fee_amount": 1}, ErrorCode.SELL_AMOUNT_OVERFLOW),
        ({"buy_token": SELL}, ErrorCode.SAME_BUY_AND_SELL_TOKEN),
        ({"sell_token": NATIVE_TOKEN}, ErrorCode.INVALID_NATIVE_SELL_TOKEN),
        ({"valid_to": int(NOW) + 59}, ErrorCode.INSUFFICIENT_VALID_TO),
        ({"valid_to": int(NOW) - 1}, ErrorCode.INSUFFICIENT_VALID_TO),
        ({"valid_to": int(NOW) + 365 * 86400 + 1}, ErrorCode.EXCESSIVE_VALID_TO),
        ({"fee_amount": 1, "valid_to": int(NOW) + 3 * 3600 + 1}, ErrorCode.EXCESSIVE_VALID_TO),
        ({"fee_amount": 1, "partially_fillable": True}, ErrorCode.UNSUPPORTED_ORDER_TYPE),
        (
            {"sell_token_balance": SellTokenBalance.EXTERNAL},
            ErrorCode.UNSUPPORTED_SELL_TOKEN_SOURCE,
        ),
        (
            {"buy_token_balance": BuyTokenBalance.INTERNAL},
            ErrorCode.UNSUPPORTED_BUY_TOKEN_DESTINATION,
        ),
    ],
)
async def test_policy_rules(changes: dict[str, Any], code: ErrorCode) -> None:
    chain = _funded(FakeChain())
    assert await _rejected(_validator(chain), _creation(_order(**changes))) is code
    assert chain.calls == 0  # refused before any chain read


async def test_validity_bounds_are_inclusive_and_configurable() -> None:
    validator = _validator(min_validity=120, max_limit_validity=7200)
    await validator.validate(_creation(_order(valid_to=int(NOW) + 120)))
    await validator.validate(_creation(_order(valid_to=int(NOW) + 7200)))
    assert (
        await _rejected(validator, _creation(_order(valid_to=int(NOW) + 119)))
        is ErrorCode.INSUFFICIENT_VALID_TO
    )
    assert (
        await _rejected(validator, _creation(_order(valid_to=int(NOW) + 7201)))
        is ErrorCode.EXCESSIVE_VALID_TO
    )


async def test_deny_listed_tokens() -> None:
    validator = _validator(denied_tokens=frozenset({BUY}))
    assert await _rejected(validator, _creation(_order())) is ErrorCode.UNSUPPORTED_TOKEN
    validator = _validator(denied_tokens=frozenset({SELL}))
    assert await _rejected(validator, _creation(_order())) is ErrorCode.UNSUPPORTED_TOKEN


async def test_app_data_rules() -> None:
    validator = _validator()
    creation = _creation(_order(), app_data="{}")
    assert (
        await _rejected(validator, msgspec.structs.replace(creation, app_data_hash="0x" + "0" * 64))
        is ErrorCode.APP_DATA_HASH_MISMATCH
    )
    assert (
        await _rejected(validator, msgspec.structs.replace(creation, app_data="{"))
        is ErrorCode.INVALID_APP_DATA
    )
    small = _validator(max_app_data_bytes=10)
    big = _creation(_order(), app_data='{"k":"' + "v" * 10 + '"}')
    assert await _rejected(small, big) is ErrorCode.INVALID_APP_DATA


@pytest.mark.parametrize("partially_fillable", [False, True])
async def test_balance_and_allowance(partially_fillable: bool) -> None:
    order = _order(fee_amount=0, partially_fillable=partially_fillable)
    need = order.sell_amount if not partially_fillable else 1
    chain = FakeChain()
    chain.balances[(OWNER, SELL)] = need - 1
    chain.allowances[(OWNER, SELL)] = need
    assert await _rejected(_validator(chain), _creation(order)) is ErrorCode.INSUFFICIENT_BALANCE
    chain.balances[(OWNER, SELL)] = need
    chain.allowances[(OWNER, SELL)] = need - 1
    assert await _rejected(_validator(chain), _creation(order)) is ErrorCode.INSUFFICIENT_ALLOWANCE
    chain.allowances[(OWNER, SELL)] = need
    await _validator(chain).validate(_creation(order))


async def test_full_balance_check_and_signed_fee() -> None:
    market = _order(fee_amount=5)
    chain = FakeChain()
    _funded(chain, amount=market.sell_amount + 4)
    assert await _rejected(_validator(chain), _creation(market)) is ErrorCode.INSUFFICIENT_BALANCE
    _funded(chain, amount=market.sell_amount + 5)
    await _validator(chain).validate(_creation(market))

    partial = _order(partially_fillable=True)
    _funded(chain, amount=1)
    await _validator(chain).validate(_creation(partial))
    full = _creation(partial, full_balance_check=True)
    assert await _rejected(_validator(chain), full) is ErrorCode.INSUFFICIENT_BALANCE


async def test_too_many_limit_orders() -> None:
    book = FakeBook({OWNER: 3})
    validator = _validator(book=book, max_limit_orders_per_owner=3)
    assert await _rejected(validator, _creation(_order())) is ErrorCode.TOO_MANY_LIMIT_ORDERS
    assert book.queries == [(OWNER, NOW)]
    # market orders are not counted
    await validator.validate(_creation(_order(fee_amount=1)))
    assert len(book.queries) == 1
    book.limit_orders[OWNER] = 2
    await validator.validate(_creation(_order()))


async def test_presign() -> None:
    chain = FakeChain()  # no balance: presign orders skip the funds check, as in CoW
    order = _order()
    uid = order_uid(order_digest(SEPARATOR, order), SAFE, order.valid_to)
    owner_bytes = "0x" + SAFE[2:]
    creation = _creation(order, SigningScheme.PRESIGN, signature=owner_bytes)
    # not pre-signed yet: accepted, pending (cow-sdk posts before setPreSignature)
    pending = await _validator(chain).validate(creation)
    assert (pending.status, pending.presigned) == (OrderStatus.PRESIGNATURE_PENDING, False)
    chain.presigned.add(uid)
    stored = await _validator(chain).validate(creation)
    assert (stored.owner, stored.uid, stored.signature) == (SAFE, uid, b"")
    assert (stored.status, stored.presigned) == (OrderStatus.OPEN, True)
    # the empty-signature form takes the owner from `from`
    via_from = _creation(order, SigningScheme.PRESIGN, from_=SAFE)
    assert (await _validator(chain).validate(via_from)).uid == uid
    assert (
        await _rejected(_validator(chain), _creation(order, SigningScheme.PRESIGN))
        is ErrorCode.MISSING_FROM
    )
    # no maximum validity for pre-signed orders (CoW's rule)
    far = _order(valid_to=int(NOW) + 2 * 365 * 86400)
    chain.presigned.add(order_uid(order_digest(SEPARATOR, far), SAFE, far.valid_to))
    await _validator(chain).validate(_creation(far, SigningScheme.PRESIGN, from_=SAFE))


async def test_eip1271() -> None:
    chain = _funded(FakeChain(), SAFE)
    order = _order()
    contract_signature = b"\xc0\xde" * 40
    creation = _creation(
        order, SigningScheme.EIP1271, signature="0x" + contract_signature.hex(), from_=SAFE
    )
    assert await _rejected(_validator(chain), creation) is ErrorCode.INVALID_EIP1271_SIGNATURE
    digest = order_digest(SEPARATOR, order)
    chain.eip1271_valid.add((SAFE, digest, contract_signature))
    stored = await _validator(chain).validate(creation)
    assert (stored.owner, stored.signature) == (SAFE, contract_signature)
    no_from = msgspec.structs.replace(creation, from_=None)
    assert await _rejected(_validator(chain), no_from) is ErrorCode.MISSING_FROM
    # funds are still checked for contract wallets
    chain.balances[(SAFE, SELL)] = 0
    assert await _rejected(_validator(chain), creation) is ErrorCode.INSUFFICIENT_BALANCE


async def test_on_chain_errors_are_reported_in_a_fixed_order() -> None:
    chain = FakeChain()  # neither a valid 1271 signature nor funds
    book = FakeBook({SAFE: 99})
    creation = _creation(_order(), SigningScheme.EIP1271, signature="0x01", from_=SAFE)
    validator = _validator(chain, book)
    assert await _rejected(validator, creation) is ErrorCode.INVALID_EIP1271_SIGNATURE
    chain.eip1271_valid.add((SAFE, order_digest(SEPARATOR, _order()), b"\x01"))
    assert await _rejected(validator, creation) is ErrorCode.INSUFFICIENT_BALANCE
    _funded(chain, SAFE)
    assert await _rejected(validator, creation) is ErrorCode.TOO_MANY_LIMIT_ORDERS


async def test_chain_failures_propagate() -> None:
    class Down(FakeChain):
        async def funds(self, queries: Any) -> Any:
            raise ConnectionError("node unreachable")

    with pytest.raises(ConnectionError):
        await _validator(Down()).validate(_creation(_order()))
