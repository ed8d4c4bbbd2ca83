"""Balancer's own ``balancer-maths`` package as an independent reference.

Its 0.1.2 wheel imports its modules as ``src.*`` (the name of its source folder), so the
package folder is registered under that name before the maths modules are loaded; the
package ``__init__`` (which fails on that import) is never run.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any


def _module(name: str) -> Any:
    spec = importlib.util.find_spec("balancer_maths")
    assert spec is not None and spec.submodule_search_locations is not None
    if "src" not in sys.modules:
        alias = types.ModuleType("src")
        alias.__path__ = list(spec.submodule_search_locations)
        sys.modules["src"] = alias
    return importlib.import_module(f"src.{name}")


maths = _module("common.maths")
log_exp = _module("common.log_exp_math").LogExpMath
weighted = _module("pools.weighted.weighted_math")
stable = _module("pools.stable.stable_math")
