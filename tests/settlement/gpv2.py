"""Test helpers on the devnet: signed orders, CoW settlements, a fill sink that remembers."""

from __future__ import annotations

from dataclasses import dataclass, field

from web3.contract import Contract

from devnet.anvil import Devnet, cs
from devnet.artifacts import COW, OPENZEPPELIN, load_artifact
from intents.eip712 import domain_separator, order_digest, order_uid
from intents.order import Order, OrderClass, OrderKind, SigningScheme, StoredOrder
from intents.signing import sign
from intents.types import ZERO_ADDRESS, OrderUid, TokenAddress
from settlement.build import Execution, build_settlement
from settlement.deployment import Account, Deployment
from settlement.encoding import Settlement


@dataclass(frozen=True)
class SignedOrder:
    order: Order
    owner: Account
    uid: OrderUid
    signature: bytes
    scheme: SigningScheme = SigningScheme.EIP712

    def stored(self) -> StoredOrder:
        return StoredOrder(
            uid=self.uid,
            owner=self.owner.address,
            order=self.order,
            signing_scheme=self.scheme,
            signature=self.signature,
            order_class=OrderClass.LIMIT,
            creation_time=0.0,
        )


def settlement_contract(node: Devnet, devnet: Deployment) -> Contract:
    return node.contract(load_artifact(COW, "GPv2Settlement"), devnet.settlement)


def erc20(node: Devnet, token: str) -> Contract:
    return node.contract(load_artifact(OPENZEPPELIN, "ERC20PresetMinterPauser"), token)


def balance(node: Devnet, token: str, owner: str) -> int:
    return int(erc20(node, token).functions.balanceOf(cs(owner)).call())


def sign_order(
    node: Devnet,
    devnet: Deployment,
    owner: Account,
    sell_token: TokenAddress,
    buy_token: TokenAddress,
    sell_amount: int,
    buy_amount: int,
    *,
    kind: OrderKind = OrderKind.SELL,
    valid_for: int = 3600,
) -> SignedOrder:
    now = int(node.w3.eth.get_block("latest")["timestamp"])
    order = Order(
        sell_token=sell_token,
        buy_token=buy_token,
        receiver=ZERO_ADDRESS,
        sell_amount=sell_amount,
        buy_amount=buy_amount,
        valid_to=now + valid_for,
        app_data=bytes(32),
        fee_amount=0,
        kind=kind,
        partially_fillable=False,
    )
    digest = order_digest(domain_separator(devnet.chain_id, devnet.settlement), order)
    key = bytes.fromhex(owner.private_key.removeprefix("0x"))
    signature = sign(SigningScheme.EIP712, digest, key)
    return SignedOrder(order, owner, order_uid(digest, owner.address, order.valid_to), signature)


def settle_orders(
    devnet: Deployment, prices: dict[TokenAddress, int], orders: list[SignedOrder]
) -> Settlement:
    """A settlement of ``orders`` at uniform ``prices`` with no interactions."""
    executions = [Execution(o.stored()) for o in orders]
    return build_settlement(executions, prices, settlement=devnet.settlement)


@dataclass
class RecordingSink:
    """A ``FillSink`` with the order book's semantics (idempotent per trade), remembering
    every call."""

    fills: dict[tuple[bytes, int], tuple[OrderUid, int, int, int, int]] = field(
        default_factory=dict
    )
    calls: list[str] = field(default_factory=list)

    async def record_fill(
        self,
        uid: OrderUid,
        *,
        executed_sell: int,
        executed_buy: int,
        executed_fee: int,
        tx_hash: bytes,
        log_index: int,
        block_number: int,
    ) -> bool:
        self.calls.append("record")
        key = (tx_hash, log_index)
        if key in self.fills:
            return False
        self.fills[key] = (uid, executed_sell, executed_buy, executed_fee, block_number)
        return True

    async def revert_fill(self, tx_hash: bytes) -> list[OrderUid]:
        self.calls.append("revert")
        reverted = [k for k in self.fills if k[0] == tx_hash]
        return [self.fills.pop(k)[0] for k in reverted]

    def executed_sell(self, uid: OrderUid) -> int:
        return sum(f[1] for f in self.fills.values() if f[0] == uid)
