"""Our own contracts, compiled from ``devnet/contracts/*.sol`` by npm's ``solc`` (solcjs).

Contracts no registry ships compiled (the hooks trampoline, a test price oracle, a test
EIP-1271 wallet) are ours to write. ``own_artifact(name)`` compiles every source in
``devnet/contracts`` in one standard-JSON run of the pinned compiler (``package.json``) and
returns the contract as an ``Artifact``, like the npm ones. The output is cached on disk under
``build/solc/`` by a hash of the sources and settings, so only the first use after a change
pays the compile (a few seconds).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

from devnet.artifacts import Artifact, ArtifactError, node_modules_dir

CONTRACTS_DIR = Path(__file__).resolve().parent / "contracts"
CACHE_DIR = Path(__file__).resolve().parent.parent / "build" / "solc"

# Fixed settings: the bytecode is reproducible from the sources and the pinned compiler.
SETTINGS: dict[str, Any] = {
    "optimizer": {"enabled": True, "runs": 200},
    "evmVersion": "cancun",
    "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}},
}

# solcjs's standard-JSON entry point: the input on stdin, the output on stdout.
_RUN_SOLC = (
    "const solc = require('solc');"
    "let input = '';"
    "process.stdin.on('data', (chunk) => { input += chunk; });"
    "process.stdin.on('end', () => { process.stdout.write(solc.compile(input)); });"
)


def compile_sources(sources: dict[str, str]) -> dict[str, Artifact]:
    """Compile Solidity ``sources`` (file name -> text); every contract by name.

    Raises ``ArtifactError`` with the compiler's messages if any source has an error.
    """
    request = {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sorted(sources.items())},
        "settings": SETTINGS,
    }
    encoded = json.dumps(request, sort_keys=True)
    key = hashlib.sha256((_solc_version() + encoded).encode()).hexdigest()[:24]
    cached = CACHE_DIR / f"{key}.json"
    if cached.is_file():
        output = json.loads(cached.read_text())
    else:
        output = _run_solc(encoded)
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(".tmp")
        tmp.write_text(json.dumps(output))
        tmp.replace(cached)
    return _artifacts(output, cached)


def own_artifact(name: str) -> Artifact:
    """Contract ``name`` from ``devnet/contracts/*.sol``."""
    found = _own_contracts().get(name)
    if found is None:
        raise ArtifactError(f"no contract {name} in {CONTRACTS_DIR}")
    return found


@cache
def _own_contracts() -> dict[str, Artifact]:
    sources = {path.name: path.read_text() for path in sorted(CONTRACTS_DIR.glob("*.sol"))}
    return compile_sources(sources) if sources else {}


@cache
def _solc_version() -> str:
    package = node_modules_dir() / "solc" / "package.json"
    try:
        return str(json.loads(package.read_text())["version"])
    except (OSError, ValueError, KeyError) as exc:
        raise ArtifactError(f"npm solc is not installed ({package}): run `make install`") from exc


def _run_solc(request: str) -> dict[str, Any]:
    try:
        done = subprocess.run(
            ["node", "-e", _RUN_SOLC],
            input=request,
            capture_output=True,
            text=True,
            cwd=node_modules_dir().parent,
            timeout=300,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ArtifactError(f"could not run solc: {exc}") from exc
    if done.returncode != 0:
        raise ArtifactError(f"solc failed: {done.stderr.strip()[-2000:]}")
    output: dict[str, Any] = json.loads(done.stdout)
    errors = [e for e in output.get("errors", ()) if e.get("severity") == "error"]
    if errors:
        messages = "\n".join(e.get("formattedMessage", e.get("message", "")) for e in errors)
        raise ArtifactError(f"solc: compile errors:\n{messages}")
    return output


def _artifacts(output: dict[str, Any], path: Path) -> dict[str, Artifact]:
    found: dict[str, Artifact] = {}
    for contracts in output.get("contracts", {}).values():
        for name, compiled in contracts.items():
            code = compiled["evm"]["bytecode"]["object"]
            found[name] = Artifact(
                name=name, abi=tuple(compiled["abi"]), bytecode=bytes.fromhex(code), path=path
            )
    return found
