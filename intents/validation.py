"""Whether an intent may enter the order book: CoW's order-creation rules and error names.

``OrderValidator.validate`` turns a decoded ``OrderCreation`` into a ``StoredOrder`` ready to
insert, or raises an ``OrderError``. Checks run cheapest first: app data, signature
recovery, the pure policy rules (``check_policy``), then the chain and order-book reads
(on-chain signature, balance and allowance, per-owner limit-order count) concurrently.
``DuplicatedOrder`` is left to the book's unique key, which is the only race-free place;
likewise the limit-order cap is enforced by the book's insert (``limit_cap``), the count
here is only a fast path.

Classes as in CoW: an order with a signed fee (``feeAmount > 0``) is a *market* order, one
without is a *limit* order; a partially fillable market order is ``UnsupportedOrderType``.

Funds: the owner's sell-token balance and vault-relayer allowance must cover
``sellAmount + feeAmount`` for a fill-or-kill order (or when ``fullBalanceCheck`` is set),
and be non-zero for a partially fillable one. Like CoW, ``presign`` orders skip this check
(a contract may fund and approve in the same transaction that pre-signs).

Pre-sign as CoW: a ``presign`` order whose pre-signature is not set on chain yet is accepted
``presignaturePending`` (cow-sdk posts the order, then sends ``setPreSignature``); the
book's indexed ``PreSignature`` events open it later. With a ``QuoteLinker``, every order
is linked to a quote (``intents.quotes``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Protocol

from intents.appdata import DEFAULT_MAX_BYTES, resolve_app_data
from intents.chain import ChainReader
from intents.eip712 import order_digest, order_uid
from intents.errors import ErrorCode, OrderError, TooManyLimitOrders
from intents.hooks import Hooks, HookSimulator, hooks_of
from intents.lifecycle import gate
from intents.order import (
    BuyTokenBalance,
    Order,
    OrderClass,
    SellTokenBalance,
    SigningScheme,
    StoredOrder,
)
from intents.quotes import QuoteLinker
from intents.signing import claimed_owner, verify_on_chain
from intents.types import UINT256_MAX, Address, OrderUid, TokenAddress
from intents.wire import OrderCreation

logger = logging.getLogger(__name__)

NATIVE_TOKEN = TokenAddress("0x" + "ee" * 20)
"""CoW's marker for the chain's native token; valid only as a buy token."""


class LimitOrderCounter(Protocol):
    """The order-book read the validator needs (``intents.book.OrderBook`` provides it)."""

    async def count_open_limit_orders(self, owner: Address, now: float) -> int: ...


@dataclass(frozen=True, slots=True)
class ValidationPolicy:
    """Tunable limits; the defaults are CoW's production defaults."""

    min_validity: int = 60  # seconds validTo must lie ahead of now
    max_market_validity: int = 3 * 3600
    max_limit_validity: int = 365 * 86400
    max_limit_orders_per_owner: int = 10
    denied_tokens: frozenset[TokenAddress] = field(default_factory=frozenset)
    max_app_data_bytes: int = DEFAULT_MAX_BYTES
    eip1271_gas_cap: int = 1_000_000
    max_gas_per_order: int = 8_000_000
    """The most gas an order's hooks may ask for together (``TooMuchGas``; CoW adds the
    quote's gas to the hooks' for its limit)."""


def order_class(order: Order) -> OrderClass:
    return OrderClass.MARKET if order.fee_amount > 0 else OrderClass.LIMIT


def check_policy(
    order: Order, scheme: SigningScheme, now: float, policy: ValidationPolicy
) -> OrderClass:
    """The rules that need neither chain nor book; returns the order's class."""
    if order.sell_amount == 0 or order.buy_amount == 0:
        raise OrderError(ErrorCode.ZERO_AMOUNT, "Buy or sell amount is zero.")
    if order.sell_amount + order.fee_amount > UINT256_MAX:
        raise OrderError(
            ErrorCode.SELL_AMOUNT_OVERFLOW, "Sell amount + fee amount must fit in uint256."
        )
    klass = order_class(order)
    if klass is OrderClass.MARKET and order.partially_fillable:
        raise OrderError(
            ErrorCode.UNSUPPORTED_ORDER_TYPE,
            "A partially fillable order must not sign a fee (market orders are fill-or-kill).",
        )
    if order.buy_token_balance is not BuyTokenBalance.ERC20:
        raise OrderError(
            ErrorCode.UNSUPPORTED_BUY_TOKEN_DESTINATION,
            f"buyTokenBalance {order.buy_token_balance} is not supported, only erc20",
        )
    if order.sell_token_balance is not SellTokenBalance.ERC20:
        raise OrderError(
            ErrorCode.UNSUPPORTED_SELL_TOKEN_SOURCE,
            f"sellTokenBalance {order.sell_token_balance} is not supported, only erc20",
        )
    if order.valid_to < now + policy.min_validity:
        raise OrderError(
            ErrorCode.INSUFFICIENT_VALID_TO,
            f"validTo must be at least {policy.min_validity} s in the future",
        )
    if scheme is not SigningScheme.PRESIGN:  # CoW: no maximum for pre-signed orders
        max_validity = (
            policy.max_market_validity if klass is OrderClass.MARKET else policy.max_limit_validity
        )
        if order.valid_to > now + max_validity:
            raise OrderError(
                ErrorCode.EXCESSIVE_VALID_TO,
                f"validTo is too far into the future: at most {max_validity} s for a {klass} order",
            )
    if order.sell_token == order.buy_token:
        raise OrderError(
            ErrorCode.SAME_BUY_AND_SELL_TOKEN, "Buy token is the same as the sell token."
        )
    if order.sell_token == NATIVE_TOKEN:
        raise OrderError(
            ErrorCode.INVALID_NATIVE_SELL_TOKEN, "The native token cannot be the sell token."
        )
    for token in (order.sell_token, order.buy_token):
        if token in policy.denied_tokens:
            raise OrderError(
                ErrorCode.UNSUPPORTED_TOKEN, f"Token {token} is unsupported: token is deny listed"
            )
    return klass


@dataclass
class _Found:
    """What the concurrent reads of one validation found besides refusals."""

    presigned: bool = True
    quote_id: int | None = None

    async def presignature(self, chain: ChainReader, uid: OrderUid) -> None:
        self.presigned = await chain.pre_signature(uid)

    async def quote(
        self, quotes: QuoteLinker, order: Order, owner: Address, quote_id: int | None
    ) -> None:
        self.quote_id = await quotes.link(order, owner, quote_id)


class OrderValidator:
    """Checks intents for one settlement contract (its EIP-712 domain separator)."""

    def __init__(
        self,
        *,
        domain_separator: bytes,
        chain: ChainReader,
        book: LimitOrderCounter,
        policy: ValidationPolicy | None = None,
        clock: Callable[[], float] = time.time,
        quotes: QuoteLinker | None = None,
        hooks: HookSimulator | None = None,
    ) -> None:
        self.domain_separator = domain_separator
        self.chain = chain
        self.book = book
        self.quotes = quotes
        """Links each order to a quote; without one, orders are stored without."""
        self.hooks = hooks
        """Runs an order's appData hooks at creation; without one, hooks are refused."""
        self.policy = policy or ValidationPolicy()
        self.clock = clock

    async def validate(self, creation: OrderCreation) -> StoredOrder:
        """The order to store, or ``OrderError`` naming the first rule it breaks."""
        app_data = resolve_app_data(
            creation.app_data, creation.app_data_hash, max_bytes=self.policy.max_app_data_bytes
        )
        hooks = hooks_of(app_data.document)
        if hooks and self.hooks is None:
            raise OrderError(
                ErrorCode.HOOKS_UNSUPPORTED, "this node runs no hooks trampoline: no hook can run"
            )
        if hooks.gas_limit > self.policy.max_gas_per_order:
            raise OrderError(
                ErrorCode.TOO_MUCH_GAS,
                f"the order's hooks ask for {hooks.gas_limit} gas, more than the "
                f"{self.policy.max_gas_per_order} an order may use",
            )
        order = creation.to_order(app_data.hash)
        scheme = creation.signing_scheme
        signature = creation.signature_bytes
        digest = order_digest(self.domain_separator, order)
        owner = claimed_owner(scheme, digest, signature, creation.owner_claim)
        uid = order_uid(digest, owner, order.valid_to)
        now = self.clock()
        klass = check_policy(order, scheme, now, self.policy)

        checks: list[Coroutine[None, None, None]] = []
        found = _Found()
        if scheme is SigningScheme.PRESIGN:
            checks.append(found.presignature(self.chain, uid))
        elif scheme is SigningScheme.EIP1271:
            checks.append(
                verify_on_chain(
                    self.chain,
                    scheme,
                    owner=owner,
                    digest=digest,
                    signature=signature,
                    gas_cap=self.policy.eip1271_gas_cap,
                )
            )
        if scheme is not SigningScheme.PRESIGN:
            # a pre-hook may grant the allowance (a permit): only the balance is checked then
            checks.append(
                self._check_funds(
                    order, owner, full=creation.full_balance_check, allowance=not hooks.pre
                )
            )
        if hooks:
            checks.append(self._check_hooks(hooks))
        if klass is OrderClass.LIMIT:
            checks.append(self._check_limit_orders(owner, now))
        if self.quotes is not None:
            checks.append(found.quote(self.quotes, order, owner, creation.quote_id))
        if len(checks) == 1:  # the common case (an ECDSA market order): no task to schedule
            await checks[0]
        elif checks:
            results = await asyncio.gather(*checks, return_exceptions=True)
            for result in results:  # report in a fixed order, whichever finished first
                if isinstance(result, BaseException):
                    raise result
        logger.debug("order 0x%s from %s passed validation", uid.hex(), owner)
        stored = StoredOrder(
            uid=uid,
            owner=owner,
            order=order,
            signing_scheme=scheme,
            signature=b"" if scheme is SigningScheme.PRESIGN else signature,
            order_class=klass,
            creation_time=now,
            app_data_json=app_data.document,
            presigned=found.presigned,
            quote_id=found.quote_id,
        )
        return gate(stored)

    async def _check_hooks(self, hooks: Hooks) -> None:
        """Every hook must run: simulated through the trampoline as the settlement calls it,
        pre-hooks then post-hooks, on the latest state (CoW refuses broken hooks too)."""
        assert self.hooks is not None
        ran = [("pre", i, h) for i, h in enumerate(hooks.pre)]
        ran += [("post", i, h) for i, h in enumerate(hooks.post)]
        succeeded = await self.hooks.simulate_hooks([h for *_, h in ran])
        for (stage, index, hook), ok in zip(ran, succeeded, strict=True):
            if not ok:
                raise OrderError(
                    ErrorCode.HOOK_SIMULATION_FAILED,
                    f"{stage}-hook {index} (call to {hook.target} with {hook.gas_limit} gas) "
                    "reverts when simulated through the hooks trampoline",
                )

    async def _check_funds(
        self, order: Order, owner: Address, *, full: bool, allowance: bool = True
    ) -> None:
        need = order.sell_amount + order.fee_amount
        if order.partially_fillable and not full:
            need = 1
        [funds] = await self.chain.funds([(owner, order.sell_token)])
        if funds.balance < need:
            raise OrderError(
                ErrorCode.INSUFFICIENT_BALANCE,
                f"order owner must hold at least {need} of the sell token, has {funds.balance}",
            )
        if allowance and funds.allowance < need:
            raise OrderError(
                ErrorCode.INSUFFICIENT_ALLOWANCE,
                f"order owner must allow the vault relayer at least {need} of the sell "
                f"token, allows {funds.allowance}",
            )

    async def _check_limit_orders(self, owner: Address, now: float) -> None:
        """The fast path of the per-owner cap: refuses early when the owner is already at
        it. Concurrent orders can all pass this read; the book's ``insert(limit_cap=...)``
        is what enforces the cap atomically."""
        count = await self.book.count_open_limit_orders(owner, now)
        cap = self.policy.max_limit_orders_per_owner
        if count >= cap:
            raise TooManyLimitOrders(owner, count, cap)
