"""Differential test against CoW's own client code: @cowprotocol/contracts, and
@cowprotocol/cow-sdk's OrderSigningUtils, with ethers 5 (node) hash, UID and sign random
orders and a cancellation; ours must agree byte for byte and recover the same signer."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from intents.eip712 import cancellations_digest, domain_separator, order_digest, order_uid
from intents.order import BuyTokenBalance, Order, OrderKind, SellTokenBalance, SigningScheme
from intents.signing import address_of, recover_signer
from intents.types import UINT32_MAX, UINT256_MAX, ZERO_ADDRESS, Address, TokenAddress

SCRIPT = Path(__file__).with_name("cow_reference.mjs")
ROOT = Path(__file__).parents[2]
CHAIN_ID = 100  # Gnosis Chain: the SDK knows its settlement contract (the canonical one)
SETTLEMENT = Address("0x9008d19f58aabd9ed0d60971565aa8510560ab41")

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (ROOT / "node_modules/@cowprotocol/contracts").is_dir(),
    reason="node and the npm packages (make installs them) are needed for the reference",
)


def _random_orders(rng: random.Random, n: int) -> list[Order]:
    def address() -> str:
        return "0x" + rng.randbytes(20).hex()

    def amount() -> int:
        return rng.choice([0, 1, rng.randrange(10**30), UINT256_MAX, rng.randrange(UINT256_MAX)])

    return [
        Order(
            sell_token=TokenAddress(address()),
            buy_token=TokenAddress(address()),
            receiver=ZERO_ADDRESS if i % 3 == 0 else Address(address()),
            sell_amount=amount(),
            buy_amount=amount(),
            valid_to=rng.choice([0, UINT32_MAX, rng.randrange(UINT32_MAX)]),
            app_data=rng.randbytes(32),
            fee_amount=amount(),
            kind=rng.choice(list(OrderKind)),
            partially_fillable=rng.random() < 0.5,
            sell_token_balance=rng.choice(list(SellTokenBalance)),
            buy_token_balance=rng.choice(list(BuyTokenBalance)),
        )
        for i in range(n)
    ]


def _as_js(order: Order) -> dict[str, Any]:
    return {
        "sellToken": order.sell_token,
        "buyToken": order.buy_token,
        "receiver": None if order.receiver == ZERO_ADDRESS else order.receiver,
        "sellAmount": str(order.sell_amount),
        "buyAmount": str(order.buy_amount),
        "validTo": order.valid_to,
        "appData": "0x" + order.app_data.hex(),
        "feeAmount": str(order.fee_amount),
        "kind": order.kind.value,
        "partiallyFillable": order.partially_fillable,
        "sellTokenBalance": order.sell_token_balance.value,
        "buyTokenBalance": order.buy_token_balance.value,
    }


@pytest.fixture(scope="module")
def reference() -> tuple[bytes, list[Order], dict[str, Any]]:
    rng = random.Random(7400681)
    key = rng.randbytes(32)
    orders = _random_orders(rng, 24)
    request = {
        "chainId": CHAIN_ID,
        "settlement": SETTLEMENT,
        "privateKey": "0x" + key.hex(),
        "orders": [_as_js(o) for o in orders],
    }
    done = subprocess.run(
        ["node", str(SCRIPT)],
        input=json.dumps(request).encode(),
        capture_output=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    return key, orders, json.loads(done.stdout)


def test_domain_separator_and_owner(reference: tuple[bytes, list[Order], dict[str, Any]]) -> None:
    key, _, answer = reference
    ours = "0x" + domain_separator(CHAIN_ID, SETTLEMENT).hex()
    assert answer["domainSeparator"] == answer["sdkDomainSeparator"] == ours
    assert answer["owner"] == address_of(key)


def test_digests_uids_and_signatures(reference: tuple[bytes, list[Order], dict[str, Any]]) -> None:
    key, orders, answer = reference
    separator = domain_separator(CHAIN_ID, SETTLEMENT)
    owner = address_of(key)
    assert len(answer["orders"]) == len(orders)
    for order, theirs in zip(orders, answer["orders"], strict=True):
        digest = order_digest(separator, order)
        assert theirs["digest"] == theirs["sdkDigest"] == "0x" + digest.hex()
        uid = "0x" + order_uid(digest, owner, order.valid_to).hex()
        assert theirs["uid"] == theirs["sdkUid"] == uid
        sdk_signature = bytes.fromhex(theirs["sdkSignature"][2:])
        assert recover_signer(SigningScheme.EIP712, digest, sdk_signature) == owner
        for scheme in (SigningScheme.EIP712, SigningScheme.ETHSIGN):
            signature = bytes.fromhex(theirs[scheme.value][2:])
            assert recover_signer(scheme, digest, signature) == owner
        # an eip712 signature is not an ethsign one (and vice versa)
        eip712 = bytes.fromhex(theirs["eip712"][2:])
        assert recover_signer(SigningScheme.ETHSIGN, digest, eip712) != owner


def test_cancellation(reference: tuple[bytes, list[Order], dict[str, Any]]) -> None:
    key, _, answer = reference
    separator = domain_separator(CHAIN_ID, SETTLEMENT)
    uids = [bytes.fromhex(o["uid"][2:]) for o in answer["orders"]]
    digest = cancellations_digest(separator, uids)
    assert answer["cancellation"]["digest"] == "0x" + digest.hex()
    for scheme in (SigningScheme.EIP712, SigningScheme.ETHSIGN):
        signature = bytes.fromhex(answer["cancellation"][scheme.value][2:])
        assert recover_signer(scheme, digest, signature) == address_of(key)
    sdk_signature = bytes.fromhex(answer["cancellation"]["sdkSignature"][2:])
    assert recover_signer(SigningScheme.EIP712, digest, sdk_signature) == address_of(key)
