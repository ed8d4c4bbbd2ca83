"""``routing`` loads its heavy dependencies only when a module that needs them is used:
the pool math and the snapshot parser import neither networkx (the token graph) nor
OR-Tools and scipy (the split optimizer)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import routing

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("ortools", "scipy", "networkx")


def _loaded_after(statement: str) -> set[str]:
    """The heavy packages a fresh interpreter has loaded after ``statement``."""
    probe = f"{statement}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(done.stdout.split()) & set(HEAVY)


@pytest.mark.parametrize(
    "statement",
    [
        "import routing.pool",
        "import routing",
        "from routing import Pool, ConstantProductPool, NoRoute",
        "import routing.liquidity, routing.uniswap_v3, routing.balancer_weighted, routing.stable",
    ],
)
def test_pool_math_loads_no_solver_or_graph_library(statement: str) -> None:
    assert _loaded_after(statement) == set()


def test_the_optimizer_loads_them_when_used() -> None:
    assert _loaded_after("from routing import Router") == set(HEAVY)


def test_every_public_name_resolves() -> None:
    namespace: dict[str, object] = {}
    exec("from routing import *", namespace)
    assert set(routing.__all__) <= set(namespace)
    assert {"Router", "RouterConfig", "TokenGraph", "Pool", "NoRoute"} <= set(routing.__all__)
    from routing.optimizer import Router

    assert namespace["Router"] is Router
    with pytest.raises(AttributeError):
        routing.NotAName  # noqa: B018
