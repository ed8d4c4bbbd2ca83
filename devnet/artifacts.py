"""Compiled contract artifacts (ABI + creation bytecode) from the npm packages.

The contracts we run on the devnet are the audited builds the projects publish on npm, not
recompiled sources. Their packages lay artifacts out differently:

- ``@cowprotocol/contracts/lib/contracts/X.json`` (Hardhat: ``bytecode`` is a hex string),
- ``@uniswap/v2-*/build/X.json`` (Waffle: ``bytecode`` or ``evm.bytecode.object``),
- ``@openzeppelin/contracts/build/contracts/X.json`` (Truffle),
- ``@uniswap/v3-*/artifacts/contracts/**/X.sol/X.json`` (Hardhat, nested by source file).

``load_artifact(package, name)`` finds and parses one of them; loads are cached.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, cast

from eth_abi.abi import decode, encode
from eth_typing import ABIConstructor, ABIFunction
from eth_utils.abi import (
    function_abi_to_4byte_selector,
    get_abi_input_types,
    get_abi_output_types,
)

from devnet.errors import DevnetError

NODE_MODULES_ENV = "TRIBUTARY_NODE_MODULES"

# The npm packages the artifacts come from.
COW = "@cowprotocol/contracts"
OPENZEPPELIN = "@openzeppelin/contracts"
UNISWAP_V2_CORE = "@uniswap/v2-core"
UNISWAP_V2_PERIPHERY = "@uniswap/v2-periphery"
UNISWAP_V3_CORE = "@uniswap/v3-core"
UNISWAP_V3_PERIPHERY = "@uniswap/v3-periphery"

# Flat layouts, tried in order before the nested Hardhat ``artifacts/`` tree.
_FLAT_DIRS = ("lib/contracts", "build", "build/contracts")


class ArtifactError(DevnetError, LookupError):
    """An artifact is missing, malformed, or needs library linking we do not do."""

    code = "ArtifactError"


@dataclass(frozen=True, slots=True)
class Artifact:
    """A compiled contract: its ABI and creation bytecode (constructor code, unlinked)."""

    name: str
    abi: tuple[dict[str, Any], ...]
    bytecode: bytes
    path: Path

    def function(self, name: str, arity: int | None = None) -> ABIFunction:
        """The ABI entry of function ``name`` (pick among overloads by ``arity``)."""
        found = [
            e
            for e in self.abi
            if e.get("type") == "function"
            and e.get("name") == name
            and (arity is None or len(e.get("inputs", ())) == arity)
        ]
        if len(found) != 1:
            raise ArtifactError(f"{self.name}: {len(found)} functions match {name}/{arity}")
        return cast(ABIFunction, found[0])

    def encode_call(self, name: str, *args: Any) -> bytes:
        """Calldata for ``name(*args)``: selector ‖ ABI-encoded arguments."""
        fn = self.function(name, len(args))
        return function_abi_to_4byte_selector(fn) + encode(get_abi_input_types(fn), args)

    def decode_result(self, name: str, data: bytes) -> tuple[Any, ...]:
        """Decode the return data of ``name`` (a tuple, one item per output)."""
        return tuple(decode(get_abi_output_types(self.function(name)), data))

    def encode_deploy(self, *args: Any) -> bytes:
        """Creation code followed by the ABI-encoded constructor arguments."""
        if not self.bytecode:
            raise ArtifactError(f"{self.name} has no bytecode (an interface?)")
        ctor = [e for e in self.abi if e.get("type") == "constructor"]
        types = get_abi_input_types(cast(ABIConstructor, ctor[0])) if ctor else []
        if len(types) != len(args):
            raise ArtifactError(f"{self.name}: constructor takes {len(types)} arguments")
        return self.bytecode + encode(types, args)


def node_modules_dir() -> Path:
    """The ``node_modules`` directory: ``$TRIBUTARY_NODE_MODULES``, else the nearest one
    above this file (the repository root), else ``./node_modules``."""
    override = os.environ.get(NODE_MODULES_ENV)
    if override:
        return Path(override)
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "node_modules"
        if candidate.is_dir():
            return candidate
    return Path.cwd() / "node_modules"


def _find(package_dir: Path, name: str) -> Path:
    for sub in _FLAT_DIRS:
        path = package_dir / sub / f"{name}.json"
        if path.is_file():
            return path
    nested = sorted((package_dir / "artifacts").glob(f"**/{name}.json"))
    if nested:
        return nested[0]
    raise ArtifactError(f"no artifact {name}.json in {package_dir} (is `npm install` done?)")


def _creation_code(raw: dict[str, Any], path: Path) -> bytes:
    code: Any = raw.get("bytecode")
    if isinstance(code, dict):
        code = code.get("object")
    if code is None:
        code = raw.get("evm", {}).get("bytecode", {}).get("object")
    if not isinstance(code, str):
        raise ArtifactError(f"{path}: no creation bytecode")
    code = code.removeprefix("0x")
    if "__" in code:
        raise ArtifactError(f"{path}: bytecode needs library linking, which is not supported")
    return bytes.fromhex(code)


@cache
def load_artifact(package: str, name: str) -> Artifact:
    """Load contract ``name`` from npm ``package`` (e.g. ``"@cowprotocol/contracts"``).

    Raises ``ArtifactError`` if it cannot be found or parsed. Interfaces and abstract
    contracts load with empty ``bytecode``.
    """
    path = _find(node_modules_dir() / package, name)
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"{path}: unreadable artifact: {exc}") from exc
    abi = raw.get("abi")
    if isinstance(abi, str):  # some Waffle builds store the ABI as a JSON string
        abi = json.loads(abi)
    if not isinstance(abi, list):
        raise ArtifactError(f"{path}: no ABI")
    return Artifact(name=name, abi=tuple(abi), bytecode=_creation_code(raw, path), path=path)
