"""Who may create and cancel a conditional order, and the trust model it rests on.

A GPv2 order has no valid-from time: once signed, it can be settled any time before its
``validTo``. So:

- an **EOA** owner (``eip712``/``ethsign``) signs the conditional order and every part up
  front (each part a full GPv2 order signature). The node checks them all at creation and
  withholds each part until it is due. The owner trusts the node not to release a part
  early: a part released before its time would be a valid order.
- a **smart-contract wallet** (``eip1271``) authorizes each part through
  ``isValidSignature(orderDigest, signature)`` at the time the part is due: the node builds
  the part's order and releases it only if the wallet accepts it then (and the settlement
  checks the wallet again when it trades). A wallet that accepts a part only once it is due
  cannot have it released early, by construction.

Creation is signed as ``ConditionalOrder(string kind,bytes staticInput,bytes32 salt)``;
cancellation as ``ConditionalOrderCancellation(bytes id)`` (``intents.conditional``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from intents.chain import ChainReader
from intents.conditional import (
    PartSpec,
    cancellation_digest,
    check_params,
    conditional_digest,
    conditional_id,
    invalid,
    parts_of,
)
from intents.conditional_store import (
    ConditionalDocument,
    PartState,
    PartStatus,
    StoredConditional,
)
from intents.conditional_wire import ConditionalOrderCancellation, ConditionalOrderCreation
from intents.eip712 import order_digest
from intents.errors import ErrorCode, SignatureError
from intents.order import SigningScheme
from intents.signing import (
    ECDSA_SCHEMES,
    claimed_owner,
    recover_signer,
    verify_on_chain,
    verify_owner,
)
from intents.types import Address
from intents.validation import ValidationPolicy, check_policy


class ConditionalAuthorizer:
    """Checks conditional orders and their cancellations for one settlement's domain."""

    def __init__(
        self,
        *,
        domain_separator: bytes,
        chain: ChainReader,
        policy: ValidationPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.domain_separator = domain_separator
        self.chain = chain
        self.policy = policy or ValidationPolicy()
        self.clock = clock

    async def authorize(self, creation: ConditionalOrderCreation) -> StoredConditional:
        """The conditional order to store, or ``OrderError`` naming the first rule broken."""
        params = creation.params.to_params()
        check_params(params)
        parts = parts_of(params)
        scheme = creation.scheme
        signature = bytes.fromhex(creation.signature[2:])
        salt = bytes.fromhex(creation.salt[2:])
        digest = conditional_digest(self.domain_separator, params, salt)
        claim = Address(creation.from_.lower()) if creation.from_ else None
        owner = claimed_owner(scheme, digest, signature, claim)
        now = self.clock()
        for part in parts:  # the rules each part must pass when it is due
            check_policy(part.order, scheme, max(now, part.not_before), self.policy)
        part_signatures = [bytes.fromhex(s[2:]) for s in creation.part_signatures]
        if scheme in ECDSA_SCHEMES:
            self._check_parts_signed(scheme, owner, parts, part_signatures)
        else:
            if part_signatures and len(part_signatures) != len(parts):
                raise invalid(
                    f"partSignatures has {len(part_signatures)} entries for {len(parts)} "
                    "parts (give none, or one per part)"
                )
            part_signatures = part_signatures or [b""] * len(parts)
            await verify_on_chain(
                self.chain,
                scheme,
                owner=owner,
                digest=digest,
                signature=signature,
                gas_cap=self.policy.eip1271_gas_cap,
            )
        document = ConditionalDocument(
            params=params,
            salt=salt,
            signing_scheme=scheme,
            signature=signature,
            part_signatures=tuple(part_signatures),
        )
        return StoredConditional(
            id=conditional_id(digest, owner),
            owner=owner,
            document=document,
            creation_time=now,
            parts=tuple(PartState(index=p.index, status=PartStatus.PENDING) for p in parts),
        )

    def _check_parts_signed(
        self, scheme: SigningScheme, owner: Address, parts: list[PartSpec], signatures: list[bytes]
    ) -> None:
        if len(signatures) != len(parts):
            raise invalid(
                f"an EOA signs every part up front: partSignatures has {len(signatures)} "
                f"entries, the order has {len(parts)} parts"
            )
        for part, part_signature in zip(parts, signatures, strict=True):
            digest = order_digest(self.domain_separator, part.order)
            signer = recover_signer(scheme, digest, part_signature)
            if signer != owner:
                raise SignatureError(
                    ErrorCode.INVALID_SIGNATURE,
                    f"part {part.index} (order digest 0x{digest.hex()}) is signed by {signer}, "
                    f"not by the owner {owner}",
                )

    async def authorize_cancellation(
        self, stored: StoredConditional, cancellation: ConditionalOrderCancellation
    ) -> None:
        """Raise unless the owner of ``stored`` signed its cancellation (``WrongOwner`` 401
        for another signer; ``InvalidEip1271Signature`` when the wallet refuses)."""
        await verify_owner(
            self.chain,
            SigningScheme(cancellation.signing_scheme),
            owner=stored.owner,
            digest=cancellation_digest(self.domain_separator, stored.id),
            signature=bytes.fromhex(cancellation.signature[2:]),
            gas_cap=self.policy.eip1271_gas_cap,
            subject=f"the cancellation of conditional order 0x{stored.id.hex()}",
        )
