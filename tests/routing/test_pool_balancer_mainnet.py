"""Balancer V2 pool math against swaps that happened on Ethereum mainnet.

Pool states and amounts of four mainnet swaps, as recorded (with their transaction hashes)
in the tests of cowprotocol/services (``crates/shared/src/sources/balancer_v2/swap``).
Token addresses do not enter the math; the order of the stable pool's tokens is varied to
show it does not matter for these swaps either.
"""

from __future__ import annotations

import itertools

import pytest

from routing.balancer_weighted import WeightedPool, WeightedToken
from routing.fixed_point import ONE
from routing.pool import PoolId, TokenAddress
from routing.stable import StablePool, StableToken

A = TokenAddress("0x" + "01" * 20)
B = TokenAddress("0x" + "02" * 20)


def test_weighted_sell_crv_sdvecrv() -> None:
    # tx 0xa9f571c9bfd4289bd4bd270465d73e1b7e010622ed089d54d81ec63a0365ec22: 90/10 pool.
    crv = WeightedToken(A, 1_850_304_144_768_426_873_445_489, 9 * 10**17, ONE)
    sdvecrv = WeightedToken(B, 95_671_347_892_391_047_965_654, 10**17, ONE)
    for shortcuts in (False, True):
        pool = WeightedPool(PoolId("w"), (crv, sdvecrv), fee=2 * 10**15, pow_shortcuts=shortcuts)
        assert pool.amount_out(B, A, 227_937_106_828_652_254_870) == 488_192_591_864_344_551_330


def test_weighted_buy_tusd_with_weth_original_pow() -> None:
    # tx 0xafc3dd6a636a85d9c1976dfa5aee33f78e6ee902f285c9d4cf80a0014aa2a052: 50/50 WETH/TUSD
    # (6-decimal scaling) on the original factory, whose pow has no exact exponent 1.
    weth = WeightedToken(A, 60_000_000_000_000_000, ONE // 2, ONE)
    tusd = WeightedToken(B, 250_000_000, ONE // 2, 10**30)
    pool = WeightedPool(PoolId("w"), (weth, tusd), fee=10**15, pow_shortcuts=False)
    paid = pool.amount_in(A, B, 5_000_000)
    assert paid == 1_225_715_511_430_411
    assert pool.amount_out(A, B, paid) >= 5_000_000


STABLE_FEE = 3 * 10**14
STABLE_AMP = 570 * 1000
SCALING = {"dai": ONE, "usdc": 10**30, "tusd": 10**30}


def _stable(order: tuple[str, ...], balances: dict[str, int]) -> tuple[StablePool, dict[str, str]]:
    address = {name: "0x" + f"{i + 1:02d}" * 20 for i, name in enumerate(order)}
    tokens = tuple(StableToken(TokenAddress(address[n]), balances[n], SCALING[n]) for n in order)
    return StablePool(PoolId("s"), tokens, amp=STABLE_AMP, fee=STABLE_FEE), address


@pytest.mark.parametrize("order", list(itertools.permutations(SCALING)))
def test_stable_sell_dai_for_usdc(order: tuple[str, ...]) -> None:
    # tx 0x75be93fff064ad46b423b9e20cee09b0ae7f741087f43e4187d4f4cf59f54229: DAI/USDC/TUSD.
    balances = {
        "dai": 40_927_687_702_846_622_465_144_342,
        "usdc": 59_448_574_675_062,
        "tusd": 55_199_308_926_456,
    }
    pool, address = _stable(order, balances)
    out = pool.amount_out(
        TokenAddress(address["dai"]), TokenAddress(address["usdc"]), 1_886_982_823_746_269_817_650
    )
    assert out == 1_887_770_905


@pytest.mark.parametrize("order", list(itertools.permutations(SCALING)))
def test_stable_buy_dai_with_usdc(order: tuple[str, ...]) -> None:
    # tx 0x38487122158eef6b63570b5d3754ddc223c63af5c049d7b80acacb9e8ca89a63.
    balances = {
        "dai": 34_869_494_603_218_073_631_628_580,
        "usdc": 48_176_005_970_419,
        "tusd": 44_564_350_355_030,
    }
    pool, address = _stable(order, balances)
    paid = pool.amount_in(TokenAddress(address["usdc"]), TokenAddress(address["dai"]), 900 * ONE)
    assert paid == 900_816_325
