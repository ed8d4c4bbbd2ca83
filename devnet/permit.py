"""EIP-2612 permits for our devnet ``PermitToken`` (``devnet/contracts/PermitToken.sol``):
the ``permit(...)`` call a wallet puts in an order's pre-hook so that a trader with no
allowance can sell."""

from __future__ import annotations

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from devnet.anvil import Devnet
from devnet.solidity import own_artifact
from intents.order import SigningScheme
from intents.signing import sign
from settlement.deployment import Account

PERMIT_TYPEHASH = keccak(
    text="Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"
)
NO_DEADLINE = 2**256 - 1


def permit_call(
    devnet: Devnet, token: str, owner: Account, spender: str, value: int = 2**256 - 1
) -> bytes:
    """``token.permit(owner, spender, value, no deadline, v, r, s)`` signed by ``owner``
    for its current nonce."""
    artifact = own_artifact("PermitToken")
    (domain,), (nonce,) = devnet.call_many(
        [(artifact, token, "DOMAIN_SEPARATOR", ()), (artifact, token, "nonces", (owner.address,))]
    )
    struct = keccak(
        encode(
            ["bytes32", "address", "address", "uint256", "uint256", "uint256"],
            [PERMIT_TYPEHASH, owner.address, spender, value, nonce, NO_DEADLINE],
        )
    )
    digest = keccak(b"\x19\x01" + bytes(domain) + struct)
    sig = sign(SigningScheme.EIP712, digest, bytes.fromhex(owner.private_key[2:]))
    return artifact.encode_call(
        "permit", owner.address, spender, value, NO_DEADLINE, sig[64], sig[:32], sig[32:64]
    )
