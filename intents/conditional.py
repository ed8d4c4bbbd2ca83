"""Conditional intents: TWAP, stop-loss and good-after-time, and the GPv2 orders they become.

A conditional order is a schedule of *parts*; each part is a normal GPv2 order that enters
the order book only when it is due. The parameters follow ComposableCoW's handlers
(``cowprotocol/composable-cow``):

- ``Twap`` (``TWAPOrder.Data``): ``n`` parts of ``partSellAmount`` each, every ``t``
  seconds from ``t0``; part ``i`` is a sell order for at least ``minPartLimit`` that is
  due at ``t0 + i·t`` and valid until ``t0 + (i+1)·t - 1`` (or ``t0 + i·t + span - 1``
  when ``span`` is not 0). ComposableCoW reads ``t0 = 0`` from its cabinet (the creation
  block); we have no cabinet, and an EOA signs the parts (their ``validTo``) up front, so
  ``t0`` must be given.
- ``StopLoss`` (``StopLoss.Data``): one order, due once the sell token's price in the buy
  token, ``sellOracle·10^18 / buyOracle`` (both scaled to 18 decimals), is at most
  ``strike`` and both oracle answers are at most ``maxTimeSinceLastOracleUpdate`` old.
  With both oracles the zero address, the node's own auction prices are the source
  (native price of the sell token ·10^18 / native price of the buy token, per base unit).
- ``GoodAfterTime``: one order, due at ``startTime``.

Who signs what (the trust model) is ``intents.conditional_auth``'s business; this module is
pure: parameters, their checks, the parts, and the EIP-712 struct the owner signs,
``ConditionalOrder(string kind,bytes staticInput,bytes32 salt)`` under the GPv2 domain,
``staticInput`` being the ABI encoding of the parameters (as ComposableCoW's
``ConditionalOrderParams`` carries them).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import msgspec

from intents.eip712 import address_bytes, typed_data_digest
from intents.errors import ErrorCode, OrderError
from intents.keccak import keccak256
from intents.order import Order, OrderKind
from intents.types import UINT32_MAX, UINT256_MAX, ZERO_ADDRESS, Address, Digest, TokenAddress

MAX_PARTS = 1000
"""Most parts one TWAP may have (each is signed and stored up front)."""
MAX_INTERVAL = 365 * 86400  # ComposableCoW's bound on ``t``
INT256_MAX = 2**255 - 1

CONDITIONAL_TYPE_HASH = keccak256(b"ConditionalOrder(string kind,bytes staticInput,bytes32 salt)")
CONDITIONAL_CANCELLATION_TYPE_HASH = keccak256(b"ConditionalOrderCancellation(bytes id)")


class ConditionalKind(enum.StrEnum):
    TWAP = "twap"
    STOP_LOSS = "stopLoss"
    GOOD_AFTER_TIME = "goodAfterTime"


class Twap(msgspec.Struct, frozen=True, kw_only=True, tag="twap"):
    sell_token: TokenAddress
    buy_token: TokenAddress
    receiver: Address
    part_sell_amount: int
    min_part_limit: int
    t0: int
    n: int
    t: int
    span: int
    app_data: bytes


class StopLoss(msgspec.Struct, frozen=True, kw_only=True, tag="stopLoss"):
    sell_token: TokenAddress
    buy_token: TokenAddress
    sell_amount: int
    buy_amount: int
    app_data: bytes
    receiver: Address
    is_sell_order: bool
    is_partially_fillable: bool
    valid_to: int
    sell_token_price_oracle: Address
    buy_token_price_oracle: Address
    strike: int
    max_time_since_last_oracle_update: int

    @property
    def uses_auction_prices(self) -> bool:
        return self.sell_token_price_oracle == ZERO_ADDRESS == self.buy_token_price_oracle


class GoodAfterTime(msgspec.Struct, frozen=True, kw_only=True, tag="goodAfterTime"):
    sell_token: TokenAddress
    buy_token: TokenAddress
    receiver: Address
    sell_amount: int
    buy_amount: int
    valid_to: int
    app_data: bytes
    kind: OrderKind
    partially_fillable: bool
    start_time: int


Params = Twap | StopLoss | GoodAfterTime


@dataclass(frozen=True, slots=True)
class PartSpec:
    """One part: the order it becomes, from when (unix seconds), and its price trigger."""

    index: int
    order: Order
    not_before: int
    trigger: StopLoss | None = None


def kind_of(params: Params) -> ConditionalKind:
    return ConditionalKind(str(type(params).__struct_config__.tag))


def invalid(description: str) -> OrderError:
    return OrderError(ErrorCode.INVALID_CONDITIONAL_ORDER, description)


def check_params(params: Params) -> None:
    """ComposableCoW's checks of the handler's data (``TWAPOrder.validate`` and the like);
    raises ``OrderError`` ``InvalidConditionalOrder`` naming the rule."""
    if params.sell_token == params.buy_token:
        raise invalid("sellToken and buyToken must differ")
    if ZERO_ADDRESS in (str(params.sell_token), str(params.buy_token)):
        raise invalid("sellToken and buyToken must not be the zero address")
    if len(params.app_data) != 32:
        raise invalid("appData must be 32 bytes")
    if isinstance(params, Twap):
        _check_twap(params)
    elif isinstance(params, StopLoss):
        _check_stop_loss(params)
    else:
        _check_amounts(params.sell_amount, params.buy_amount)
        _check_time(params.start_time, "startTime")
        _check_time(params.valid_to, "validTo")
        if params.start_time >= params.valid_to:
            raise invalid("startTime must lie before validTo")


def _check_amounts(sell: int, buy: int) -> None:
    if not (0 < sell <= UINT256_MAX and 0 < buy <= UINT256_MAX):
        raise invalid("the sell and buy amounts must be positive uint256 values")


def _check_time(value: int, name: str) -> None:
    if not 0 < value <= UINT32_MAX:
        raise invalid(f"{name} must be a positive uint32 (unix seconds)")


def _check_twap(twap: Twap) -> None:
    if not 0 < twap.part_sell_amount <= UINT256_MAX:
        raise invalid("partSellAmount must be positive")
    if not 0 < twap.min_part_limit <= UINT256_MAX:
        raise invalid("minPartLimit must be positive")
    _check_time(twap.t0, "t0")
    if not 1 < twap.n <= MAX_PARTS:
        raise invalid(f"n (the number of parts) must be more than 1 and at most {MAX_PARTS}")
    if not 0 < twap.t <= MAX_INTERVAL:
        raise invalid(f"t (seconds between parts) must be positive and at most {MAX_INTERVAL}")
    if not 0 <= twap.span <= twap.t:
        raise invalid("span must be at most t (0: each part is valid for the whole interval)")
    if twap.part_sell_amount * twap.n > UINT256_MAX:
        raise invalid("partSellAmount · n must fit uint256")
    if twap.t0 + twap.n * twap.t - 1 > UINT32_MAX:
        raise invalid("the last part must end before 2106 (validTo is a uint32)")


def _check_stop_loss(stop: StopLoss) -> None:
    _check_amounts(stop.sell_amount, stop.buy_amount)
    _check_time(stop.valid_to, "validTo")
    if not 0 < stop.strike <= INT256_MAX:
        raise invalid("strike must be a positive int256 (18 decimals)")
    if (stop.sell_token_price_oracle == ZERO_ADDRESS) != (
        stop.buy_token_price_oracle == ZERO_ADDRESS
    ):
        raise invalid(
            "give both price oracles, or neither (the zero address: the node's auction prices)"
        )
    if not 0 < stop.max_time_since_last_oracle_update <= UINT32_MAX:
        raise invalid("maxTimeSinceLastOracleUpdate must be a positive number of seconds")


def parts_of(params: Params) -> list[PartSpec]:
    """The parts in order (call ``check_params`` first)."""
    if isinstance(params, Twap):
        return [_twap_part(params, i) for i in range(params.n)]
    if isinstance(params, StopLoss):
        kind = OrderKind.SELL if params.is_sell_order else OrderKind.BUY
        return [PartSpec(0, _one_order(params, kind, params.is_partially_fillable), 0, params)]
    order = _one_order(params, params.kind, params.partially_fillable)
    return [PartSpec(0, order, params.start_time)]


def _one_order(params: StopLoss | GoodAfterTime, kind: OrderKind, partial: bool) -> Order:
    return Order(
        sell_token=params.sell_token,
        buy_token=params.buy_token,
        receiver=params.receiver,
        sell_amount=params.sell_amount,
        buy_amount=params.buy_amount,
        valid_to=params.valid_to,
        app_data=params.app_data,
        fee_amount=0,
        kind=kind,
        partially_fillable=partial,
    )


def _twap_part(twap: Twap, index: int) -> PartSpec:
    """Part ``index`` as ``TWAPOrder.orderFor`` builds it at a time within that part."""
    start = twap.t0 + index * twap.t
    valid_to = start + (twap.span if twap.span else twap.t) - 1
    order = Order(
        sell_token=twap.sell_token,
        buy_token=twap.buy_token,
        receiver=twap.receiver,
        sell_amount=twap.part_sell_amount,
        buy_amount=twap.min_part_limit,
        valid_to=valid_to,
        app_data=twap.app_data,
        fee_amount=0,
        kind=OrderKind.SELL,
        partially_fillable=False,
    )
    return PartSpec(index, order, start)


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _address(address: str) -> bytes:
    return bytes(12) + address_bytes(address)


def static_input(params: Params) -> bytes:
    """``abi.encode`` of the handler's data struct (every field is one static word)."""
    if isinstance(params, Twap):
        words = [
            _address(params.sell_token),
            _address(params.buy_token),
            _address(params.receiver),
            *map(_word, (params.part_sell_amount, params.min_part_limit, params.t0)),
            *map(_word, (params.n, params.t, params.span)),
            params.app_data,
        ]
    elif isinstance(params, StopLoss):
        words = [
            _address(params.sell_token),
            _address(params.buy_token),
            _word(params.sell_amount),
            _word(params.buy_amount),
            params.app_data,
            _address(params.receiver),
            _word(int(params.is_sell_order)),
            _word(int(params.is_partially_fillable)),
            _word(params.valid_to),
            _address(params.sell_token_price_oracle),
            _address(params.buy_token_price_oracle),
            _word(params.strike),
            _word(params.max_time_since_last_oracle_update),
        ]
    else:
        words = [
            _address(params.sell_token),
            _address(params.buy_token),
            _address(params.receiver),
            _word(params.sell_amount),
            _word(params.buy_amount),
            _word(params.valid_to),
            params.app_data,
            keccak256(params.kind.value.encode()),
            _word(int(params.partially_fillable)),
            _word(params.start_time),
        ]
    return b"".join(words)


def conditional_digest(separator: bytes, params: Params, salt: bytes) -> Digest:
    """What the owner signs to create the conditional order (its id's first 32 bytes)."""
    struct_hash = keccak256(
        CONDITIONAL_TYPE_HASH
        + keccak256(kind_of(params).value.encode())
        + keccak256(static_input(params))
        + salt
    )
    return typed_data_digest(separator, struct_hash)


def conditional_id(digest: bytes, owner: Address) -> bytes:
    """The 52-byte id: ``digest ‖ owner`` (as an order UID starts)."""
    return digest + address_bytes(owner)


def cancellation_digest(separator: bytes, conditional: bytes) -> Digest:
    """The digest of ``ConditionalOrderCancellation(bytes id)``, what cancelling signs."""
    return typed_data_digest(
        separator, keccak256(CONDITIONAL_CANCELLATION_TYPE_HASH + keccak256(conditional))
    )


def scale_price(answer: int, decimals: int) -> int:
    """An oracle answer scaled to 18 decimals (exact; scaling down rounds down, as
    ComposableCoW's ``Utils.scalePrice``)."""
    factor: int = 10 ** abs(18 - decimals)
    return answer * factor if decimals < 18 else answer // factor
