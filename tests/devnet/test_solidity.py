from __future__ import annotations

import pytest

from devnet.anvil import Devnet
from devnet.artifacts import ArtifactError
from devnet.solidity import compile_sources

# A test-only source, compiled by the pinned npm solc and run on the devnet.
_COUNTER = """
// SPDX-License-Identifier: MIT
pragma solidity ^0.8.0;
contract Counter {
    uint256 public count;
    constructor(uint256 start) { count = start; }
    function add(uint256 n) external returns (uint256) { count += n; return count; }
}
"""


def test_compiled_source_deploys_and_runs(devnet_node: Devnet) -> None:
    counter = compile_sources({"Counter.sol": _COUNTER})["Counter"]
    assert compile_sources({"Counter.sol": _COUNTER})["Counter"].bytecode == counter.bytecode
    (address,) = devnet_node.deploy_many([(counter, [41])])
    assert devnet_node.call(counter, address, "count") == (41,)
    assert devnet_node.call(counter, address, "add", 1) == (42,)


def test_compile_error_names_the_line() -> None:
    with pytest.raises(ArtifactError, match=r"Broken\.sol:3"):
        compile_sources(
            {"Broken.sol": "pragma solidity ^0.8.0;\ncontract Broken {\n  uint x = ;\n}\n"}
        )
