"""Who signed an order: ECDSA recovery (``eip712``, ``ethsign``) and on-chain schemes.

ECDSA signatures are 65 bytes ``r ‖ s ‖ v``; like CoW's orderbook we accept ``v`` as 27/28 or
0/1. We are stricter than ``ecrecover`` in one respect: high-``s`` signatures (``s > n/2``,
the malleable twin of a valid one, never produced by standard wallets) are refused.

API encoding (CoW's): for ``eip1271`` the ``signature`` field is the contract's signature and
the owner is ``from``; for ``presign`` it is empty or the owner's 20 bytes. The settlement
contract wants ``owner ‖ signature`` resp. ``owner`` instead: see ``settlement_signature``.
"""

from __future__ import annotations

from coincurve import PrivateKey
from coincurve._libsecp256k1 import ffi as _ffi
from coincurve._libsecp256k1 import lib as _lib
from coincurve.context import GLOBAL_CONTEXT as _CONTEXT

from intents.chain import ChainReader
from intents.eip712 import address_bytes
from intents.errors import ErrorCode, SignatureError
from intents.keccak import keccak256
from intents.order import SigningScheme
from intents.types import Address

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_HALF_N = SECP256K1_N // 2
_ETHSIGN_PREFIX = b"\x19Ethereum Signed Message:\n32"
_RECOVERY_ID = {27: 0, 28: 1, 0: 0, 1: 1}
_UNCOMPRESSED = _lib.SECP256K1_EC_UNCOMPRESSED
ECDSA_SCHEMES = frozenset((SigningScheme.EIP712, SigningScheme.ETHSIGN))


def _invalid(description: str) -> SignatureError:
    return SignatureError(ErrorCode.INVALID_SIGNATURE, description)


def signed_message(scheme: SigningScheme, digest: bytes) -> bytes:
    """The 32-byte hash an ECDSA key actually signs for an EIP-712 ``digest``."""
    if scheme is SigningScheme.ETHSIGN:
        return keccak256(_ETHSIGN_PREFIX + digest)
    return digest


def recover_signer(scheme: SigningScheme, digest: bytes, signature: bytes) -> Address:
    """The address whose key produced ``signature`` over ``digest`` (``eip712`` or
    ``ethsign``); raises ``SignatureError`` (InvalidSignature) if there is none."""
    if len(digest) != 32:  # libsecp256k1 reads exactly 32 bytes
        raise ValueError(f"a digest is 32 bytes, got {len(digest)}")
    if len(signature) != 65:
        raise _invalid(f"an ECDSA signature is 65 bytes (r ‖ s ‖ v), got {len(signature)}")
    recovery_id = _RECOVERY_ID.get(signature[64])
    if recovery_id is None:
        raise _invalid(f"invalid v value {signature[64]}: expected 27, 28, 0 or 1")
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    if not 0 < r < SECP256K1_N or not 0 < s <= _HALF_N:
        raise _invalid("r or s out of range (high-s signatures are not accepted)")
    public_key = _recover_public_key(signature[:64], recovery_id, signed_message(scheme, digest))
    if public_key is None:
        raise _invalid("no public key recovers from this signature")
    return _address_of_public_key(public_key)


def _address_of_public_key(public_key: bytes) -> Address:
    """The address of a 64-byte uncompressed public key (x ‖ y): its hash's last 20 bytes."""
    return Address("0x" + keccak256(public_key)[12:].hex())


def _recover_public_key(rs: bytes, recovery_id: int, message: bytes) -> bytes | None:
    """The 64-byte uncompressed public key (x ‖ y) that signed ``message``, or None.

    Calls libsecp256k1 through coincurve's cffi binding directly: its ``PublicKey`` API
    costs ~15% more per recovery in Python overhead."""
    ctx = _CONTEXT.ctx
    parsed = _ffi.new("secp256k1_ecdsa_recoverable_signature *")
    if not _lib.secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, parsed, rs, recovery_id):
        return None
    public_key = _ffi.new("secp256k1_pubkey *")
    if not _lib.secp256k1_ecdsa_recover(ctx, public_key, parsed, message):
        return None
    out = _ffi.new("unsigned char[65]")
    size = _ffi.new("size_t *", 65)
    _lib.secp256k1_ec_pubkey_serialize(ctx, out, size, public_key, _UNCOMPRESSED)
    return bytes(_ffi.buffer(out, 65)[1:])


def sign(scheme: SigningScheme, digest: bytes, private_key: bytes) -> bytes:
    """Sign an EIP-712 ``digest`` as a wallet would (65 bytes, low-s, ``v`` 27/28)."""
    raw = PrivateKey(private_key).sign_recoverable(signed_message(scheme, digest), hasher=None)
    return raw[:64] + bytes((raw[64] + 27,))


def address_of(private_key: bytes) -> Address:
    """The address of a secp256k1 private key."""
    return _address_of_public_key(PrivateKey(private_key).public_key.format(compressed=False)[1:])


def claimed_owner(
    scheme: SigningScheme, digest: bytes, signature: bytes, from_: Address | None
) -> Address:
    """The order's owner as the signature and ``from`` claim it, checked where that can be
    done off chain: ECDSA recovery (must equal ``from`` when given), the presign owner bytes.
    On-chain schemes still need ``verify_on_chain``."""
    if scheme in ECDSA_SCHEMES:
        owner = recover_signer(scheme, digest, signature)
    elif scheme is SigningScheme.PRESIGN:
        if len(signature) not in (0, 20):
            raise _invalid("a presign signature is empty or the owner's 20-byte address")
        owner = Address("0x" + signature.hex()) if signature else _require_from(from_)
    else:
        owner = _require_from(from_)
    if from_ is not None and from_ != owner:
        raise SignatureError(
            ErrorCode.WRONG_OWNER,
            f"the signature is by {owner}, which does not match from address {from_}",
        )
    return owner


def _require_from(from_: Address | None) -> Address:
    if from_ is None:
        raise SignatureError(
            ErrorCode.MISSING_FROM, "from address must be specified for on-chain signatures"
        )
    return from_


async def verify_on_chain(
    chain: ChainReader,
    scheme: SigningScheme,
    *,
    owner: Address,
    digest: bytes,
    signature: bytes,
    gas_cap: int,
) -> None:
    """Check an ``eip1271`` signature (``isValidSignature`` within ``gas_cap``) on chain;
    the other schemes need nothing more here (a ``presign`` order's pre-signature is read
    by the validator and only decides whether it is stored open or pending)."""
    if scheme is SigningScheme.EIP1271 and not await chain.is_valid_eip1271(
        owner, digest, signature, gas_cap
    ):
        raise SignatureError(
            ErrorCode.INVALID_EIP1271_SIGNATURE,
            f"{owner} does not accept the signature for order digest 0x{digest.hex()}",
        )


async def verify_owner(
    chain: ChainReader,
    scheme: SigningScheme,
    *,
    owner: Address,
    digest: bytes,
    signature: bytes,
    gas_cap: int,
    subject: str,
) -> None:
    """Raise unless ``owner`` signed ``digest`` (an owner-signed request about ``subject``):
    ECDSA (``WrongOwner``, 401, for another signer) or ``eip1271`` (``isValidSignature``
    on chain, ``InvalidEip1271Signature`` when the wallet refuses); ``presign`` signs
    nothing off chain (``InvalidSignature``)."""
    if scheme is SigningScheme.EIP1271:
        await verify_on_chain(
            chain, scheme, owner=owner, digest=digest, signature=signature, gas_cap=gas_cap
        )
        return
    if scheme not in ECDSA_SCHEMES:
        raise _invalid(f"{subject} is signed with eip712, ethsign or eip1271, not {scheme}")
    signer = recover_signer(scheme, digest, signature)
    if signer != owner:
        raise SignatureError(
            ErrorCode.WRONG_OWNER,
            f"{subject} is signed by {signer}, but belongs to {owner}",
            http_status=401,
        )


def settlement_signature(scheme: SigningScheme, owner: Address, signature: bytes) -> bytes:
    """The signature bytes ``GPv2Settlement.settle`` expects for a trade."""
    if scheme is SigningScheme.EIP1271:
        return address_bytes(owner) + signature
    if scheme is SigningScheme.PRESIGN:
        return address_bytes(owner)
    return signature
