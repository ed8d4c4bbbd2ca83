"""Our EIP-712 digest and UID are the contract's: a trade signed with them settles on chain.

A trader signs "sell TKA for TKB" with ``intents.eip712``; the settlement contract holds
enough TKB; the solver settles that single trade (no interactions). The contract recovers
the owner from *its own* digest of the order, so the trade only goes through, with our UID
in its ``Trade`` event and in ``filledAmount``, if both digests are equal bit for bit.
"""

from __future__ import annotations

from typing import Any

import pytest
from web3.exceptions import ContractLogicError
from web3.logs import DISCARD

from devnet.anvil import Devnet, cs
from devnet.errors import DevnetError
from intents.eip712 import domain_separator, order_digest, order_uid
from intents.order import Order, OrderKind, SigningScheme
from intents.signing import sign
from intents.types import ZERO_ADDRESS, Address
from settlement.deployment import Deployment
from settlement.encoding import Settlement, token_indices, trade_for_order
from tests.settlement.gpv2 import erc20, settlement_contract

SELL = 3 * 10**18
BUY = 5 * 10**18
# Uniform clearing prices TKA: 2, TKB: 1 -> the trader receives 2 TKB per TKA (>= 5/3 asked).
PRICE_A, PRICE_B = 2, 1


def test_domain_separator_equals_ours(chain_state: Devnet, devnet: Deployment) -> None:
    contract = settlement_contract(chain_state, devnet)
    ours = domain_separator(chain_state.w3.eth.chain_id, devnet.settlement)
    assert bytes(contract.functions.domainSeparator().call()) == ours
    assert devnet.domain_separator == ours


def _eip1271_wallet(node: Devnet, devnet: Deployment, digest: bytes, token: str) -> Address:
    """A smart-contract wallet that accepts exactly one digest: its code returns the
    EIP-1271 magic value iff ``isValidSignature``'s first argument is ``digest``, so the
    trade only settles if the contract's digest is ours. Funded with ``token``, vault
    relayer approved (sent as the wallet through anvil's impersonation)."""
    runtime = (
        b"\x7f" + digest  # PUSH32 digest
        + bytes.fromhex("600435" "14" "602d" "57")  # CALLDATALOAD(4) EQ, JUMPI to 0x2d
        + bytes.fromhex("60006000fd")  # REVERT(0, 0)
        + bytes.fromhex("5b")  # 0x2d: JUMPDEST
        + b"\x7f" + bytes.fromhex("1626ba7e") + bytes(28)  # PUSH32 magic value
        + bytes.fromhex("600052" "60206000f3")  # MSTORE(0), RETURN(0, 32)
    )  # fmt: skip
    wallet = Address("0x" + "12" * 18 + "71" + "aa")
    node.rpc("anvil_setCode", wallet, "0x" + runtime.hex())
    node.rpc("anvil_setBalance", wallet, hex(10**18))
    node.transact(erc20(node, token).functions.mint(cs(wallet), SELL), devnet.deployer.address)
    node.rpc("anvil_impersonateAccount", wallet)
    try:
        approve = erc20(node, token).functions.approve(cs(devnet.vault_relayer), SELL)
        node.transact(approve, wallet)
    finally:
        node.rpc("anvil_stopImpersonatingAccount", wallet)
    for candidate, accepted in ((digest, True), (bytes(32), False)):
        call = {"to": wallet, "data": "0x1626ba7e" + candidate.hex() + "40".zfill(64) + "0" * 64}
        try:
            answer = node.rpc("eth_call", call, "latest")
        except DevnetError:
            answer = None
        assert (answer == "0x1626ba7e" + "0" * 56) is accepted
    return wallet


@pytest.mark.parametrize("scheme", list(SigningScheme))
def test_settled_trade_carries_our_uid(
    chain_state: Devnet, devnet: Deployment, scheme: SigningScheme
) -> None:
    node, w3 = chain_state, chain_state.w3
    trader = devnet.accounts[0]
    token_a, token_b = devnet.tokens["TKA"], devnet.tokens["TKB"]
    settlement = settlement_contract(node, devnet)
    now = w3.eth.get_block("latest")["timestamp"]
    order = Order(
        sell_token=token_a,
        buy_token=token_b,
        receiver=ZERO_ADDRESS,
        sell_amount=SELL,
        buy_amount=BUY,
        valid_to=now + 3600,
        app_data=bytes(range(32)),
        fee_amount=0,
        kind=OrderKind.SELL,
        partially_fillable=False,
    )
    separator = domain_separator(w3.eth.chain_id, devnet.settlement)
    digest = order_digest(separator, order)
    owner = trader.address
    if scheme is SigningScheme.EIP1271:
        owner = _eip1271_wallet(node, devnet, digest, token_a)
    uid = order_uid(digest, owner, order.valid_to)
    if scheme is SigningScheme.PRESIGN:
        node.transact(settlement.functions.setPreSignature(uid, True), owner)
        signature = b""
    elif scheme is SigningScheme.EIP1271:
        signature = b"any bytes the wallet wants"
    else:
        signature = sign(scheme, digest, bytes.fromhex(trader.private_key.removeprefix("0x")))

    executed_buy = -(-SELL * PRICE_A // PRICE_B)  # the contract rounds the buy amount up
    node.transact(
        erc20(node, token_b).functions.mint(cs(devnet.settlement), executed_buy),
        devnet.deployer.address,
    )
    tokens = (token_a, token_b)
    trade = trade_for_order(order, token_indices(tokens), scheme, owner, signature)
    calldata = Settlement(tokens=tokens, clearing_prices=(PRICE_A, PRICE_B), trades=(trade,))

    balance_a_before = erc20(node, token_a).functions.balanceOf(cs(owner)).call()
    receipt = _settle(node, devnet, calldata.calldata())

    (event,) = settlement.events.Trade().process_receipt(receipt, errors=DISCARD)
    args: dict[str, Any] = dict(event["args"])
    assert bytes(args["orderUid"]) == uid
    assert Address(args["owner"].lower()) == owner
    assert (args["sellAmount"], args["buyAmount"], args["feeAmount"]) == (SELL, executed_buy, 0)
    assert settlement.functions.filledAmount(uid).call() == SELL
    balance_a_after = erc20(node, token_a).functions.balanceOf(cs(owner)).call()
    assert balance_a_before - balance_a_after == SELL


def test_a_digest_of_different_order_data_does_not_settle(
    chain_state: Devnet, devnet: Deployment
) -> None:
    """The converse: sign one order, submit another -> the contract recovers someone else
    (who has no tokens or allowance), so settle reverts. Equal digests are not a tautology."""
    node, w3 = chain_state, chain_state.w3
    trader = devnet.accounts[0]
    token_a, token_b = devnet.tokens["TKA"], devnet.tokens["TKB"]
    now = w3.eth.get_block("latest")["timestamp"]
    signed = Order(
        sell_token=token_a,
        buy_token=token_b,
        receiver=ZERO_ADDRESS,
        sell_amount=SELL,
        buy_amount=BUY,
        valid_to=now + 3600,
        app_data=bytes(32),
        fee_amount=0,
        kind=OrderKind.SELL,
        partially_fillable=False,
    )
    separator = domain_separator(w3.eth.chain_id, devnet.settlement)
    key = bytes.fromhex(trader.private_key.removeprefix("0x"))
    signature = sign(SigningScheme.EIP712, order_digest(separator, signed), key)
    tampered = Order(
        **{**{f: getattr(signed, f) for f in signed.__struct_fields__}, "buy_amount": BUY - 1}
    )
    tokens = (token_a, token_b)
    trade = trade_for_order(
        tampered, token_indices(tokens), SigningScheme.EIP712, trader.address, signature
    )
    calldata = Settlement(tokens=tokens, clearing_prices=(PRICE_A, PRICE_B), trades=(trade,))
    node.transact(
        erc20(node, token_b).functions.mint(cs(devnet.settlement), 2 * SELL),
        devnet.deployer.address,
    )
    tx = {
        "from": cs(devnet.solver.address),
        "to": cs(devnet.settlement),
        "data": calldata.calldata(),
    }
    with pytest.raises(ContractLogicError, match="revert"):
        w3.eth.call(tx)  # type: ignore[arg-type]


def _settle(node: Devnet, devnet: Deployment, calldata: bytes) -> Any:
    tx = node.w3.eth.send_transaction(
        {"from": cs(devnet.solver.address), "to": cs(devnet.settlement), "data": calldata}
    )
    receipt = node.w3.eth.wait_for_transaction_receipt(tx, timeout=30)
    assert receipt["status"] == 1
    return receipt


@pytest.mark.parametrize(
    ("kind", "partially_fillable"),
    [(OrderKind.BUY, False), (OrderKind.SELL, True), (OrderKind.BUY, True)],
)
def test_kind_and_fill_flags_are_read_as_signed(
    chain_state: Devnet, devnet: Deployment, kind: OrderKind, partially_fillable: bool
) -> None:
    """The flags word carries kind and fill mode into the contract's digest: were a bit
    wrong, the contract would hash a different order and recover another owner."""
    node, w3 = chain_state, chain_state.w3
    trader = devnet.accounts[0]
    token_a, token_b = devnet.tokens["TKA"], devnet.tokens["TKB"]
    order = Order(
        sell_token=token_a,
        buy_token=token_b,
        receiver=ZERO_ADDRESS,
        sell_amount=SELL,
        buy_amount=BUY,
        valid_to=w3.eth.get_block("latest")["timestamp"] + 3600,
        app_data=bytes(32),
        fee_amount=10**15,
        kind=kind,
        partially_fillable=partially_fillable,
    )
    digest = order_digest(domain_separator(w3.eth.chain_id, devnet.settlement), order)
    uid = order_uid(digest, trader.address, order.valid_to)
    key = bytes.fromhex(trader.private_key.removeprefix("0x"))
    signature = sign(SigningScheme.EIP712, digest, key)
    limit = BUY if kind is OrderKind.BUY else SELL
    executed = limit // 2 if partially_fillable else 0
    filled = executed or limit
    node.transact(
        erc20(node, token_b).functions.mint(cs(devnet.settlement), 2 * SELL),
        devnet.deployer.address,
    )
    tokens = (token_a, token_b)
    trade = trade_for_order(
        order, token_indices(tokens), SigningScheme.EIP712, trader.address, signature, executed
    )
    settlement = Settlement(tokens=tokens, clearing_prices=(PRICE_A, PRICE_B), trades=(trade,))

    receipt = _settle(node, devnet, settlement.calldata())

    contract = settlement_contract(node, devnet)
    (event,) = contract.events.Trade().process_receipt(receipt, errors=DISCARD)
    assert bytes(event["args"]["orderUid"]) == uid
    assert contract.functions.filledAmount(uid).call() == filled
    # The contract's arithmetic: fee pro rata (floor), buy side rounded up for sell orders,
    # sell side rounded down for buy orders.
    fee = order.fee_amount * filled // limit if partially_fillable else order.fee_amount
    if kind is OrderKind.SELL:
        expected = (filled + fee, -(-filled * PRICE_A // PRICE_B))
    else:
        expected = (filled * PRICE_B // PRICE_A + fee, filled)
    assert (event["args"]["sellAmount"], event["args"]["buyAmount"]) == expected
    assert event["args"]["feeAmount"] == fee
