"""CoW Protocol's solver-engine JSON format as msgspec Structs: the HTTP boundary of ``/solve``
and ``/notify`` (and of the calls our auctioneer makes to external solver engines).

Field for field the Rust DTOs of cowprotocol/services ``crates/solvers-dto`` (``auction.rs``,
``solution.rs``, ``notification.rs``); where the OpenAPI file disagrees the Rust structs win
(``balancerPoolId``, string liquidity ids, allowance ``amount``). Amounts are ``U256``: on the
wire a decimal string (``0x`` hex also accepted on input, as Rust's ``HexOrDecimalU256``),
in Python an ``int``. Decimal ratios (fees, weights, scaling factors) stay exact strings.
Decoding errors carry the JSON path (``msgspec.ValidationError``).

Unknown fields are ignored, as serde ignores them (no struct of ``solvers-dto`` denies
them): a newer driver's additions, or third-party auctions' extras such as an order's
``feeAmount``, decode. Wrong types, enum values and unknown tags (liquidity kinds,
notification kinds) are still rejected. Encoding follows serde: a field the Rust struct
marks ``skip_serializing_if`` is omitted when absent (``Order.receiver``, a trade's
``fee``, ``Solution.gas``...); the other optional fields are written as ``null``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from intents.wire import Hex32, HexAddress, HexBytes, HexOrDecimalU256, HexUid, decoder
from intents.wire import encode as encode
from intents.wire import to_builtins as to_builtins

Uint32 = Annotated[int, msgspec.Meta(ge=0, le=2**32 - 1)]
Uint64 = Annotated[int, msgspec.Meta(ge=0)]
DecimalStr = Annotated[str, msgspec.Meta(pattern=r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$")]
"""A ``BigDecimal``: an exact decimal number as a string."""
IntStr = Annotated[str, msgspec.Meta(pattern=r"^-?[0-9]+$")]
"""A signed integer as a decimal string (``DisplayFromStr``)."""


U256 = HexOrDecimalU256
"""A uint256 amount; on the wire a decimal string (hex ``0x..`` accepted on input)."""


AuctionId = str | Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
"""An auction id. The driver writes an ``i64`` as a decimal string (serde's
``DisplayFromStr``); the solver OpenAPI file calls it an opaque string, and third-party
auctions use integers and other strings. It is only echoed and logged, so any string or
integer is accepted as it comes."""


class _Dto(msgspec.Struct, frozen=True, rename="camel", kw_only=True):
    """Common options of every DTO: camelCase keys, unknown keys ignored."""


class _SkipNone(_Dto, frozen=True, kw_only=True, omit_defaults=True):
    """A DTO whose defaulted fields are all ``skip_serializing_if`` in Rust: a field equal
    to its default is not written."""


def _written_even_if_empty() -> list[Any]:
    """The default of a list field serde always writes (``#[serde(default)]`` without
    ``skip_serializing_if``) in an ``omit_defaults`` struct: msgspec omits empty lists only
    for the ``list`` factory itself, so this factory's empty lists are written."""
    return []


# -- auction ---------------------------------------------------------------------------------


class Token(_Dto, frozen=True, kw_only=True):
    decimals: Annotated[int, msgspec.Meta(ge=0, le=255)] | None = None
    symbol: str | None = None
    reference_price: U256 | None = None
    """Native-token wei for ``10**18`` base units of the token."""
    available_balance: U256
    """What the settlement contract holds of the token (its buffer)."""
    trusted: bool


class InteractionData(_Dto, frozen=True, kw_only=True):
    """An order's pre- or post-interaction (a call the settlement contract makes)."""

    target: HexAddress
    value: U256
    call_data: HexBytes


class SurplusPolicy(_Dto, frozen=True, kw_only=True):
    factor: float
    max_volume_factor: float


class Quote(_Dto, frozen=True, kw_only=True):
    sell_amount: U256
    buy_amount: U256
    fee: U256


class PriceImprovementPolicy(_Dto, frozen=True, kw_only=True):
    factor: float
    max_volume_factor: float
    quote: Quote


class VolumePolicy(_Dto, frozen=True, kw_only=True):
    factor: float


class FeePolicy(_SkipNone, frozen=True, kw_only=True):
    """Serde's externally tagged enum: exactly one of the three keys is present (and
    written)."""

    surplus: SurplusPolicy | None = None
    price_improvement: PriceImprovementPolicy | None = None
    volume: VolumePolicy | None = None

    def __post_init__(self) -> None:
        present = [p for p in (self.surplus, self.price_improvement, self.volume) if p]
        if len(present) != 1:
            raise ValueError("a fee policy has exactly one of surplus, priceImprovement, volume")


class WrapperCall(_Dto, frozen=True, kw_only=True):
    """A wrapper contract an order's settlement goes through (``auction.rs``'s
    ``WrapperCall``); ``isOmittable`` says a solution may leave it out."""

    address: HexAddress
    data: HexBytes
    is_omittable: bool = False


class FlashloanHint(_Dto, frozen=True, kw_only=True):
    liquidity_provider: HexAddress
    protocol_adapter: HexAddress
    receiver: HexAddress
    token: HexAddress
    amount: U256


class Order(_SkipNone, frozen=True, kw_only=True):
    """An order of the auction. ``sellAmount``/``buyAmount`` are what is left to fill,
    ``fullSellAmount``/``fullBuyAmount`` the amounts as signed."""

    uid: HexUid
    sell_token: HexAddress
    buy_token: HexAddress
    sell_amount: U256
    full_sell_amount: U256
    buy_amount: U256
    full_buy_amount: U256
    fee_policies: list[FeePolicy] | None = None
    valid_to: Uint32
    kind: Literal["sell", "buy"]
    receiver: HexAddress | None = None
    owner: HexAddress
    partially_fillable: bool
    pre_interactions: list[InteractionData]
    post_interactions: list[InteractionData]
    sell_token_source: Literal["erc20", "external", "internal"]
    buy_token_destination: Literal["erc20", "internal"]
    class_: Literal["market", "limit"] = msgspec.field(name="class")
    app_data: Hex32
    flashloan_hint: FlashloanHint | None = None
    wrappers: list[WrapperCall] = []
    signing_scheme: Literal["eip712", "ethsign", "eip1271", "presign"]
    signature: HexBytes


class ConstantProductReserve(_Dto, frozen=True, kw_only=True):
    balance: U256


class ConstantProductPool(_Dto, frozen=True, kw_only=True, tag_field="kind", tag="constantProduct"):
    id: str
    address: HexAddress
    router: HexAddress
    gas_estimate: U256
    tokens: dict[HexAddress, ConstantProductReserve]
    fee: DecimalStr


class WeightedProductReserve(_Dto, frozen=True, kw_only=True):
    balance: U256
    scaling_factor: DecimalStr
    weight: DecimalStr


class WeightedProductPool(_Dto, frozen=True, kw_only=True, tag_field="kind", tag="weightedProduct"):
    id: str
    address: HexAddress
    balancer_pool_id: Hex32
    gas_estimate: U256
    tokens: dict[HexAddress, WeightedProductReserve]
    fee: DecimalStr
    version: Literal["v0", "v3Plus"]


class StableReserve(_Dto, frozen=True, kw_only=True):
    balance: U256
    scaling_factor: DecimalStr


class StablePool(_Dto, frozen=True, kw_only=True, tag_field="kind", tag="stable"):
    id: str
    address: HexAddress
    balancer_pool_id: Hex32
    gas_estimate: U256
    tokens: dict[HexAddress, StableReserve]
    amplification_parameter: DecimalStr
    fee: DecimalStr


class ConcentratedLiquidityPool(
    _Dto, frozen=True, kw_only=True, tag_field="kind", tag="concentratedLiquidity"
):
    id: str
    address: HexAddress
    router: HexAddress
    gas_estimate: U256
    tokens: list[HexAddress]
    sqrt_price: U256
    liquidity: Annotated[str, msgspec.Meta(pattern=r"^[0-9]+$")]
    """A ``u128`` as a decimal string."""
    tick: Annotated[int, msgspec.Meta(ge=-(2**31), le=2**31 - 1)]
    liquidity_net: dict[IntStr, IntStr]
    """Initialized tick (decimal string) -> signed liquidity change (decimal string)."""
    fee: DecimalStr


class ForeignLimitOrder(_Dto, frozen=True, kw_only=True, tag_field="kind", tag="limitOrder"):
    id: str
    address: HexAddress
    gas_estimate: U256
    hash: Hex32
    maker_token: HexAddress
    taker_token: HexAddress
    maker_amount: U256
    taker_amount: U256
    taker_token_fee_amount: U256


Liquidity = (
    ConstantProductPool
    | WeightedProductPool
    | StablePool
    | ConcentratedLiquidityPool
    | ForeignLimitOrder
)


class Auction(_Dto, frozen=True, kw_only=True):
    """The body of ``POST /solve``."""

    id: AuctionId | None = None
    """The auction id (see ``AuctionId``); ``null`` (or absent) for quotes."""
    tokens: dict[HexAddress, Token]
    orders: list[Order]
    liquidity: list[Liquidity]
    effective_gas_price: U256
    deadline: datetime
    surplus_capturing_jit_order_owners: list[HexAddress]


# -- solution --------------------------------------------------------------------------------


class Fulfillment(_SkipNone, frozen=True, kw_only=True, tag_field="kind", tag="fulfillment"):
    """A trade of an auction order. ``executedAmount`` is in the sell token for sell
    orders and in the buy token for buy orders, fee excluded; ``fee`` (sell token) is
    set for ``limit``-class orders, whose fee the solver determines (omitted otherwise)."""

    order: HexUid
    executed_amount: U256
    fee: U256 | None = None


class JitOrder(_Dto, frozen=True, kw_only=True):
    sell_token: HexAddress
    buy_token: HexAddress
    receiver: HexAddress
    sell_amount: U256
    buy_amount: U256
    partially_fillable: bool = False
    valid_to: Uint32
    app_data: Hex32
    kind: Literal["sell", "buy"]
    sell_token_balance: Literal["erc20", "internal", "external"]
    buy_token_balance: Literal["erc20", "internal"]
    signing_scheme: Literal["eip712", "ethSign", "preSign", "eip1271"]
    signature: HexBytes


class JitTrade(_SkipNone, frozen=True, kw_only=True, tag_field="kind", tag="jit"):
    order: JitOrder
    executed_amount: U256
    fee: U256 | None = None


Trade = Fulfillment | JitTrade


class LiquidityInteraction(_Dto, frozen=True, kw_only=True, tag_field="kind", tag="liquidity"):
    """A swap through auction liquidity ``id``; the driver encodes the call."""

    internalize: bool
    id: str
    input_token: HexAddress
    output_token: HexAddress
    input_amount: U256
    output_amount: U256


class Asset(_Dto, frozen=True, kw_only=True):
    token: HexAddress
    amount: U256


class Allowance(_Dto, frozen=True, kw_only=True):
    token: HexAddress
    spender: HexAddress
    amount: U256


class CustomInteraction(_Dto, frozen=True, kw_only=True, tag_field="kind", tag="custom"):
    internalize: bool
    target: HexAddress
    value: U256
    call_data: HexBytes
    allowances: list[Allowance]
    inputs: list[Asset]
    outputs: list[Asset]


Interaction = LiquidityInteraction | CustomInteraction


class Call(_Dto, frozen=True, kw_only=True, tag_field="kind", tag="Call"):
    """A solution's pre- or post-interaction (serde writes ``"kind": "Call"``; optional
    when decoding)."""

    target: HexAddress
    value: U256
    call_data: HexBytes


class Flashloan(_Dto, frozen=True, kw_only=True):
    liquidity_provider: HexAddress
    protocol_adapter: HexAddress
    receiver: HexAddress
    token: HexAddress
    amount: U256


class SolutionWrapperCall(_Dto, frozen=True, kw_only=True):
    """A wrapper the settlement goes through (``solution.rs``'s ``WrapperCall``)."""

    address: HexAddress
    data: HexBytes = "0x"


class Solution(_SkipNone, frozen=True, kw_only=True):
    """A solution. ``maxFeePerGas``/``maxPriorityFeePerGas`` are serde's flattened
    ``GasFeeOverride`` (meaningful as a pair); ``flashloans`` are keyed by order UID."""

    id: Uint64
    prices: dict[HexAddress, U256]
    """Uniform clearing price per token."""
    trades: list[Trade]
    pre_interactions: list[Call] = msgspec.field(default_factory=_written_even_if_empty)
    interactions: list[Interaction]
    post_interactions: list[Call] = msgspec.field(default_factory=_written_even_if_empty)
    gas: Uint64 | None = None
    max_fee_per_gas: U256 | None = None
    max_priority_fee_per_gas: U256 | None = None
    flashloans: dict[HexUid, Flashloan] | None = None
    wrappers: list[SolutionWrapperCall] = []


class SolverError(_SkipNone, frozen=True, kw_only=True):
    code: Literal[
        "tradingOutsideAllowedWindow", "tokenTemporarilySuspended", "insufficientLiquidity", "other"
    ]
    message: str | None = None


class SolverResponse(_SkipNone, frozen=True, kw_only=True):
    """The body ``POST /solve`` answers with: ``{"solutions": [...]}``, or (serde's untagged
    alternative) ``{"error": {...}}``. Encoding always writes ``solutions``, and serde reads
    any body with ``solutions`` as the first form: an error answer is ``{"error": ...}``
    alone, not this struct encoded."""

    solutions: list[Solution] = msgspec.field(default_factory=_written_even_if_empty)
    error: SolverError | None = None


# -- codecs ----------------------------------------------------------------------------------


AUCTION_DECODER = decoder(Auction)
SOLVER_RESPONSE_DECODER = decoder(SolverResponse)


def encode_solutions(solutions: list[Solution]) -> bytes:
    """The ``/solve`` answer exactly as serde writes it: ``{"solutions": [...]}``."""
    return encode({"solutions": solutions})


def decode_auction(body: bytes) -> Auction:
    """Decode a ``/solve`` body; raises ``msgspec.DecodeError``/``ValidationError``."""
    return AUCTION_DECODER.decode(body)


def decode_solver_response(body: bytes) -> SolverResponse:
    return SOLVER_RESPONSE_DECODER.decode(body)
