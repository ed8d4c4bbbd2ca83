"""The one boundary between the solver-engine DTOs (``solver.dto``) and the solver's domain
model (``solver.model``), typed to typed in both directions; the liquidity's side of it
(DTO pools <-> routing's pools) is ``solver.dto_pools``.

* ``auction_from_dto``: a decoded ``/solve`` body as the domain ``Auction``; its liquidity
  converted by ``solver.dto_pools`` (one builder per pool kind).
* ``auction_to_dto`` / ``order_to_dto``: what our auctioneer sends external solvers.
* ``solution_to_dto`` / ``solution_from_dto``: solutions both ways.

Wire amounts (``U256``) become ``int``, hex strings ``bytes`` or lowercase addresses, exact
decimal strings ``Fraction``s scaled to the contracts' integer units.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Literal

from intents.order import BuyTokenBalance, OrderClass, OrderKind, SellTokenBalance, SigningScheme
from intents.types import Address, OrderUid
from intents.wire import to_hex
from routing.pool import PoolId, TokenAddress, token_address
from routing.route import Leg
from solver import dto
from solver.checks import Rejection, SolutionRejected
from solver.dto_pools import pool_to_dto, pools_from_dto
from solver.model import (
    Auction,
    FeePolicy,
    FlashloanHint,
    Interaction,
    Order,
    PriceImprovementFee,
    Quote,
    Solution,
    SurplusFee,
    Token,
    Trade,
    VolumeFee,
    Wrapper,
)

_WAD = 10**18
_NO_POOL_ID = "0x" + "00" * 32


def _bytes(text: str) -> bytes:
    return bytes.fromhex(text[2:])


def _address(text: str) -> Address:
    return Address(text.lower())


# -- orders ----------------------------------------------------------------------------------


def _fee_policy(policy: dto.FeePolicy) -> FeePolicy:
    if policy.surplus is not None:
        return SurplusFee(policy.surplus.factor, policy.surplus.max_volume_factor)
    if policy.volume is not None:
        return VolumeFee(policy.volume.factor)
    improvement = policy.price_improvement
    assert improvement is not None  # a FeePolicy has exactly one kind
    q = improvement.quote
    quote = Quote(int(q.sell_amount), int(q.buy_amount), int(q.fee))
    return PriceImprovementFee(improvement.factor, improvement.max_volume_factor, quote)


def fee_policy_json(policy: FeePolicy) -> str:
    """The policy as CoW's ``FeePolicy`` JSON (``{"surplus": {...}}``, ...)."""
    return dto.encode(_fee_policy_dto(policy)).decode()


def _fee_policy_dto(policy: FeePolicy) -> dto.FeePolicy:
    if isinstance(policy, SurplusFee):
        surplus = dto.SurplusPolicy(
            factor=policy.factor, max_volume_factor=policy.max_volume_factor
        )
        return dto.FeePolicy(surplus=surplus)
    if isinstance(policy, VolumeFee):
        return dto.FeePolicy(volume=dto.VolumePolicy(factor=policy.factor))
    q = policy.quote
    return dto.FeePolicy(
        price_improvement=dto.PriceImprovementPolicy(
            factor=policy.factor,
            max_volume_factor=policy.max_volume_factor,
            quote=dto.Quote(
                sell_amount=dto.U256(q.sell_amount),
                buy_amount=dto.U256(q.buy_amount),
                fee=dto.U256(q.fee),
            ),
        )
    )


def _interaction(call: dto.InteractionData) -> Interaction:
    return Interaction(_address(call.target), int(call.value), _bytes(call.call_data))


def _interaction_dto(call: Interaction) -> dto.InteractionData:
    return dto.InteractionData(
        target=call.target, value=dto.U256(call.value), call_data=to_hex(call.call_data)
    )


def _flashloan(hint: dto.FlashloanHint | None) -> FlashloanHint | None:
    if hint is None:
        return None
    return FlashloanHint(
        liquidity_provider=_address(hint.liquidity_provider),
        protocol_adapter=_address(hint.protocol_adapter),
        receiver=_address(hint.receiver),
        token=token_address(hint.token),
        amount=int(hint.amount),
    )


def _flashloan_dto(hint: FlashloanHint | None) -> dto.FlashloanHint | None:
    if hint is None:
        return None
    return dto.FlashloanHint(
        liquidity_provider=hint.liquidity_provider,
        protocol_adapter=hint.protocol_adapter,
        receiver=hint.receiver,
        token=hint.token,
        amount=dto.U256(hint.amount),
    )


def order_from_dto(order: dto.Order) -> Order:
    kind = OrderKind(order.kind)
    return Order(
        uid=OrderUid(_bytes(order.uid)),
        owner=_address(order.owner),
        sell_token=token_address(order.sell_token),
        buy_token=token_address(order.buy_token),
        signed_sell_amount=int(order.full_sell_amount),
        signed_buy_amount=int(order.full_buy_amount),
        kind=kind,
        partially_fillable=order.partially_fillable,
        order_class=OrderClass(order.class_),
        remaining=int(order.sell_amount if kind is OrderKind.SELL else order.buy_amount),
        valid_to=order.valid_to,
        fee_policies=tuple(_fee_policy(p) for p in order.fee_policies or ()),
        receiver=None if order.receiver is None else _address(order.receiver),
        app_data=_bytes(order.app_data),
        signing_scheme=SigningScheme(order.signing_scheme),
        signature=_bytes(order.signature),
        sell_token_source=SellTokenBalance(order.sell_token_source),
        buy_token_destination=BuyTokenBalance(order.buy_token_destination),
        pre_interactions=tuple(map(_interaction, order.pre_interactions)),
        post_interactions=tuple(map(_interaction, order.post_interactions)),
        flashloan_hint=_flashloan(order.flashloan_hint),
        wrappers=tuple(
            Wrapper(_address(w.address), _bytes(w.data), w.is_omittable) for w in order.wrappers
        ),
    )


_SCHEMES: Mapping[SigningScheme, Literal["eip712", "ethsign", "eip1271", "presign"]] = {
    SigningScheme.EIP712: "eip712",
    SigningScheme.ETHSIGN: "ethsign",
    SigningScheme.EIP1271: "eip1271",
    SigningScheme.PRESIGN: "presign",
}
_SOURCES: Mapping[SellTokenBalance, Literal["erc20", "external", "internal"]] = {
    SellTokenBalance.ERC20: "erc20",
    SellTokenBalance.EXTERNAL: "external",
    SellTokenBalance.INTERNAL: "internal",
}
_DESTINATIONS: Mapping[BuyTokenBalance, Literal["erc20", "internal"]] = {
    BuyTokenBalance.ERC20: "erc20",
    BuyTokenBalance.INTERNAL: "internal",
}


def order_to_dto(order: Order) -> dto.Order:
    """The wire form of an order: what is left on both sides (``Order.remaining_amounts``);
    an order without a ``valid_to`` (legacy) takes the one its UID ends with."""
    sell_left, buy_left = order.remaining_amounts()
    valid_to = order.valid_to
    return dto.Order(
        uid=to_hex(order.uid),
        sell_token=order.sell_token,
        buy_token=order.buy_token,
        sell_amount=dto.U256(sell_left),
        full_sell_amount=dto.U256(order.signed_sell_amount),
        buy_amount=dto.U256(buy_left),
        full_buy_amount=dto.U256(order.signed_buy_amount),
        fee_policies=[_fee_policy_dto(p) for p in order.fee_policies] or None,
        valid_to=int.from_bytes(order.uid[52:56], "big") if valid_to is None else valid_to,
        kind="sell" if order.kind is OrderKind.SELL else "buy",
        receiver=order.receiver,
        owner=order.owner,
        partially_fillable=order.partially_fillable,
        pre_interactions=[_interaction_dto(i) for i in order.pre_interactions],
        post_interactions=[_interaction_dto(i) for i in order.post_interactions],
        sell_token_source=_SOURCES[order.sell_token_source],
        buy_token_destination=_DESTINATIONS[order.buy_token_destination],
        class_="limit" if order.order_class is OrderClass.LIMIT else "market",
        app_data=to_hex(order.app_data),
        flashloan_hint=_flashloan_dto(order.flashloan_hint),
        wrappers=[
            dto.WrapperCall(address=w.address, data=to_hex(w.data), is_omittable=w.is_omittable)
            for w in order.wrappers
        ],
        signing_scheme=_SCHEMES[order.signing_scheme],
        signature=to_hex(order.signature),
    )


# -- auctions --------------------------------------------------------------------------------


def auction_from_dto(auction: dto.Auction) -> Auction:
    """The domain auction of a decoded ``/solve`` body."""
    tokens = {
        token_address(addr): Token(
            address=token_address(addr),
            decimals=info.decimals,
            symbol=info.symbol,
            reference_price=None if info.reference_price is None else int(info.reference_price),
            available_balance=int(info.available_balance),
            trusted=info.trusted,
        )
        for addr, info in auction.tokens.items()
    }
    return Auction(
        id=None if auction.id is None else str(auction.id),
        orders=tuple(order_from_dto(order) for order in auction.orders),
        tokens=MappingProxyType(tokens),
        liquidity=pools_from_dto(auction.liquidity),
        gas_price=int(auction.effective_gas_price),
        deadline=auction.deadline,
        surplus_capturing_jit_order_owners=tuple(
            _address(a) for a in auction.surplus_capturing_jit_order_owners
        ),
    )


def auction_to_dto(
    auction: Auction, liquidity: Sequence[dto.Liquidity] | None = None
) -> dto.Auction:
    """The ``/solve`` body for ``auction`` (what our auctioneer sends external solvers);
    ``liquidity``: the wire form of its pools when the caller has it (with the routers
    and pool ids a routing pool does not keep), else built from the pools."""
    return dto.Auction(
        id=auction.id,
        tokens={
            t: dto.Token(
                decimals=info.decimals,
                symbol=info.symbol,
                reference_price=None
                if info.reference_price is None
                else dto.U256(info.reference_price),
                available_balance=dto.U256(info.available_balance),
                trusted=info.trusted,
            )
            for t, info in auction.tokens.items()
        },
        orders=[order_to_dto(o) for o in auction.orders],
        liquidity=list(liquidity)
        if liquidity is not None
        else [pool_to_dto(p) for p in auction.liquidity.pools],
        effective_gas_price=dto.U256(auction.gas_price),
        deadline=auction.deadline,
        surplus_capturing_jit_order_owners=list(auction.surplus_capturing_jit_order_owners),
    )


# -- solutions -------------------------------------------------------------------------------


def solution_to_dto(solution: Solution, orders: Mapping[OrderUid, Order]) -> dto.Solution:
    """The wire form of ``solution``; ``orders`` tells which trades carry a solver fee
    (``limit`` class: always, even 0; ``market``: never)."""
    trades: list[dto.Trade] = []
    for trade in solution.trades:
        order = orders[trade.order]
        fee = dto.U256(trade.fee) if order.order_class is OrderClass.LIMIT else None
        trades.append(
            dto.Fulfillment(
                order=to_hex(trade.order), executed_amount=dto.U256(trade.executed), fee=fee
            )
        )
    return dto.Solution(
        id=solution.id,
        prices={token: dto.U256(price) for token, price in solution.prices.items()},
        trades=trades,
        interactions=[
            dto.LiquidityInteraction(
                internalize=index in solution.internalized,
                id=leg.pool,
                input_token=leg.token_in,
                output_token=leg.token_out,
                input_amount=dto.U256(leg.amount_in),
                output_amount=dto.U256(leg.amount_out),
            )
            for index, leg in enumerate(solution.legs)
        ],
        gas=solution.gas,
    )


def solution_from_dto(solution: dto.Solution, engine: str = "") -> Solution:
    """The domain form of a decoded solution (its prices as given: two spellings of one
    token are both kept); raises ``SolutionRejected`` for what the model cannot represent:
    JIT trades, custom interactions, pre/post interactions, wrappers and flash loans,
    whose token flows cannot be verified."""
    unsupported = _unsupported(solution)
    if unsupported:
        raise SolutionRejected(Rejection.UNSUPPORTED_SOLUTION, unsupported)
    trades = []
    for trade in solution.trades:
        assert isinstance(trade, dto.Fulfillment)  # _unsupported rejected JIT trades
        order = OrderUid(_bytes(trade.order))
        trades.append(Trade(order, int(trade.executed_amount), int(trade.fee or 0)))
    legs = []
    internalized = set()
    for index, swap in enumerate(solution.interactions):
        assert isinstance(swap, dto.LiquidityInteraction)  # _unsupported rejected the others
        if swap.internalize:
            internalized.add(index)
        legs.append(
            Leg(
                pool=PoolId(swap.id),
                token_in=token_address(swap.input_token),
                token_out=token_address(swap.output_token),
                amount_in=int(swap.input_amount),
                amount_out=int(swap.output_amount),
            )
        )
    return Solution(
        id=solution.id,
        prices={TokenAddress(token): int(price) for token, price in solution.prices.items()},
        trades=tuple(trades),
        legs=tuple(legs),
        gas=solution.gas or 0,
        engine=engine,
        internalized=frozenset(internalized),
    )


def _unsupported(solution: dto.Solution) -> str | None:
    if solution.pre_interactions or solution.post_interactions:
        return "pre- and post-interactions are not supported"
    if solution.wrappers or solution.flashloans:
        return "wrappers and flash loans are not supported"
    if any(not isinstance(t, dto.Fulfillment) for t in solution.trades):
        return "JIT trades are not supported"
    for interaction in solution.interactions:
        if isinstance(interaction, dto.CustomInteraction):
            return f"custom interaction with {interaction.target} cannot be verified"
    return None
