"""Where the contracts are on a chain: ``Deployment``, the document ``serve`` reads.

The deployment JSON names the settlement contract, its vault relayer and authenticator,
the hooks trampoline, WETH, the solver account that settles and funded trader accounts.
``tributary devnet`` writes it for a local chain; for any other chain with the same
contracts it can be written by hand. Its ``liquidity`` member (the pools to route
through) is read by ``settlement.chain_pools.PoolList``. It holds private keys: it is
written readable by its owner only (``write_private``), and an ``Account``'s repr hides its key.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from intents.types import Address, TokenAddress, to_address
from settlement.errors import DeploymentError


class Account(NamedTuple):
    """An account: lowercase address and its ``0x`` hex private key."""

    address: Address
    private_key: str

    def __repr__(self) -> str:  # keys never reach a log line or a traceback
        return f"Account(address={self.address!r}, private_key=<hidden>)"


@dataclass(frozen=True, slots=True)
class Deployment:
    """Where everything is on a devnet (or any chain with the same contracts)."""

    rpc_url: str
    chain_id: int
    settlement: Address
    vault_relayer: Address
    authenticator: Address
    weth: TokenAddress
    tokens: Mapping[str, TokenAddress]
    accounts: tuple[Account, ...]
    """Funded traders: every token and WETH, vault relayer approved."""
    deployer: Account
    """Authenticator manager and token minter."""
    solver: Account
    """Allow-listed in the authenticator."""
    domain_separator: bytes
    """``GPv2Settlement.domainSeparator()`` as read from the chain."""
    multicall: Address | None = None
    """``UniswapInterfaceMulticall``, for packing reads (``BatchingRpcClient(multicall=)``)."""
    genesis_hash: bytes | None = None
    """The chain's genesis block hash: a node refuses another chain with the same id."""
    hooks_trampoline: Address | None = None
    """Our ``HooksTrampoline`` for this settlement: orders' appData hooks run through it
    (``settlement.hooks``); without one, orders with hooks are refused."""

    def to_json(self) -> str:
        return json.dumps(
            {
                "rpcUrl": self.rpc_url,
                "chainId": self.chain_id,
                "settlement": self.settlement,
                "vaultRelayer": self.vault_relayer,
                "authenticator": self.authenticator,
                "weth": self.weth,
                "tokens": dict(self.tokens),
                "accounts": [list(a) for a in self.accounts],
                "deployer": list(self.deployer),
                "solver": list(self.solver),
                "domainSeparator": "0x" + self.domain_separator.hex(),
                "multicall": self.multicall,
                "genesisHash": "0x" + self.genesis_hash.hex() if self.genesis_hash else None,
                "hooksTrampoline": self.hooks_trampoline,
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> Deployment:
        """Parse ``to_json()`` output; raise ``ValueError`` on a malformed document."""
        try:
            raw = json.loads(text)
            return cls(
                rpc_url=str(raw["rpcUrl"]),
                chain_id=int(raw["chainId"]),
                settlement=to_address(raw["settlement"]),
                vault_relayer=to_address(raw["vaultRelayer"]),
                authenticator=to_address(raw["authenticator"]),
                weth=TokenAddress(to_address(raw["weth"])),
                tokens={s: TokenAddress(to_address(a)) for s, a in raw["tokens"].items()},
                accounts=tuple(_account(a) for a in raw["accounts"]),
                deployer=_account(raw["deployer"]),
                solver=_account(raw["solver"]),
                domain_separator=bytes.fromhex(raw["domainSeparator"].removeprefix("0x")),
                multicall=to_address(raw["multicall"]) if raw.get("multicall") else None,
                genesis_hash=(
                    bytes.fromhex(raw["genesisHash"][2:]) if raw.get("genesisHash") else None
                ),
                hooks_trampoline=(
                    to_address(raw["hooksTrampoline"]) if raw.get("hooksTrampoline") else None
                ),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise DeploymentError(f"malformed deployment JSON: {exc!r}") from exc

    def save(self, path: str | Path) -> None:
        write_private(Path(path), self.to_json() + "\n")

    @classmethod
    def load(cls, path: str | Path) -> Deployment:
        return cls.from_json(Path(path).read_text())


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable and writable by its owner only (0600, also when
    the file existed with a wider mode): the file holds private keys."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(text)


def _account(raw: Sequence[str]) -> Account:
    address, key = raw
    return Account(to_address(address), str(key))
