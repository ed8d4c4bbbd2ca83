"""``tributary serve``'s HTTP-limit flags and what they configure."""

from __future__ import annotations

import argparse

import pytest

from intents.http.ratelimit import Rate
from intents.http.server import HttpLimits
from solver.cli import _build_parser
from solver.http_flags import serving_from_args


def _serve(*flags: str) -> argparse.Namespace:
    return _build_parser().parse_args(["serve", *flags])


def test_the_defaults_are_the_documented_ones() -> None:
    serving = serving_from_args(_serve())
    assert serving.limits == HttpLimits(
        header_timeout=10.0, keepalive_timeout=75.0, max_connections=1000
    )
    assert serving.body_timeout == 10.0
    assert serving.rate_limits is not None
    assert serving.rate_limits.writes == Rate(10.0, 20)
    assert serving.rate_limits.reads == Rate(50.0, 100)
    assert not serving.rate_limits.trust_proxy


def test_flags_set_every_limit() -> None:
    flags = [
        "--header-timeout", "2", "--body-timeout", "3", "--keepalive-timeout", "5",
        "--max-connections", "7", "--max-line-size", "4096", "--write-rate", "1.5",
        "--write-burst", "4", "--read-rate", "9", "--read-burst", "11", "--trust-proxy",
    ]  # fmt: skip
    serving = serving_from_args(_serve(*flags))
    assert serving.limits == HttpLimits(
        header_timeout=2.0,
        keepalive_timeout=5.0,
        max_connections=7,
        max_line_size=4096,
        max_field_size=4096,
    )
    assert serving.body_timeout == 3.0
    assert serving.rate_limits is not None
    assert (serving.rate_limits.writes, serving.rate_limits.reads) == (Rate(1.5, 4), Rate(9, 11))
    assert serving.rate_limits.trust_proxy


def test_rate_limits_can_be_switched_off() -> None:
    assert serving_from_args(_serve("--no-rate-limit")).rate_limits is None


def test_a_namespace_without_the_flags_gets_the_defaults() -> None:
    assert serving_from_args(argparse.Namespace()) == serving_from_args(_serve())


@pytest.mark.parametrize(
    "flags",
    [["--header-timeout", "0"], ["--max-connections", "2.5"], ["--read-rate", "-1"],
     ["--body-timeout", "soon"]],
)  # fmt: skip
def test_nonsense_limits_are_refused(flags: list[str]) -> None:
    with pytest.raises(SystemExit):
        _serve(*flags)


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError):
        HttpLimits(header_timeout=0)
    with pytest.raises(ValueError):
        HttpLimits(max_connections=0)


@pytest.mark.parametrize(
    ("flag", "origins"),
    [
        ([], ("*",)),
        (
            ["--cors-origins", "https://a.example, https://b.example"],
            ("https://a.example", "https://b.example"),
        ),
        (["--cors-origins", "none"], ()),
    ],
)
def test_cors_origins(flag: list[str], origins: tuple[str, ...]) -> None:
    assert serving_from_args(_serve(*flag)).cors_origins == origins
