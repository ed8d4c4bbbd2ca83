from __future__ import annotations

from eth_abi import encode as abi_encode
from hypothesis import given
from hypothesis import strategies as st

from devnet.artifacts import load_artifact
from settlement import multicall

ARTIFACT = load_artifact("@uniswap/v3-periphery", "UniswapInterfaceMulticall")
addresses = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())


@given(st.lists(st.tuples(addresses, st.binary(max_size=100)), max_size=8), st.integers(0, 2**64))
def test_encoding_is_the_abi_encoding(calls: list[tuple[str, bytes]], gas: int) -> None:
    expected = ARTIFACT.encode_call("multicall", [(to, gas, data) for to, data in calls])
    assert multicall.encode(calls, gas) == expected


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 2**64), st.binary(max_size=100))))
def test_decoding_reads_the_abi_encoding(results: list[tuple[bool, int, bytes]]) -> None:
    data = abi_encode(["uint256", "(bool,uint256,bytes)[]"], [12345, results])
    assert multicall.decode(data) == [(ok, out) for ok, _, out in results]


def test_truncated_return_data_is_refused() -> None:
    data = abi_encode(["uint256", "(bool,uint256,bytes)[]"], [1, [(True, 1, b"x" * 40)]])
    for cut in (10, len(data) - 40):
        try:
            multicall.decode(data[:cut])
        except ValueError:
            continue
        raise AssertionError(f"decoded {cut} bytes of {len(data)}")
