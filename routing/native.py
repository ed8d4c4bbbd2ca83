"""The routing modules compiled with mypyc, and the switch back to their pure-Python source.

``setup.py`` compiles ``COMPILED`` (the exact pool math, the baseline's path choice, the
quotes memo) when mypyc and a C compiler are there; the ``.py`` files stay beside the
extension modules and compute the same amounts. With ``TRIBUTARY_PURE_PYTHON=1`` in the
environment, ``routing`` loads the ``.py`` files even where extension modules were built
(``prefer_source``, called by ``routing/__init__.py`` before any submodule is imported): the
fallback, for comparing the two (``bench candidates --variants``) and testing it. A module
edited after its build is never run compiled: all of them are then loaded from source.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import logging
import os
import sys
from collections.abc import Sequence
from types import ModuleType

COMPILED: tuple[str, ...] = (
    "routing.full_math",
    "routing.fixed_point",
    "routing.tick_math",
    "routing.sqrt_price_math",
    "routing.swap_math",
    "routing.uniswap_v2",
    "routing.uniswap_v3",
    "routing.balancer_weighted",
    "routing.stable",
    "routing.covering",
    "routing.quotes",
    "routing.baseline",
)
"""The pool classes among them copy and pickle through ``routing.pool.frozen_state`` and
``restore_frozen`` (mypyc's frozen dataclasses have no ``__setstate__`` that works)."""
PURE_ENV = "TRIBUTARY_PURE_PYTHON"
GROUP = "routing_native"
"""mypyc's group name: the compiled code is one shared library, ``routing_native__mypyc``."""

logger = logging.getLogger(__name__)


class _SourceFinder(importlib.abc.MetaPathFinder):
    """Finds the ``.py`` file of a ``COMPILED`` module ahead of its extension module."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in COMPILED:
            return None
        name = fullname.rsplit(".", 1)[1] + ".py"
        for entry in path or ():
            source = os.path.join(entry, name)
            if os.path.isfile(source):
                return importlib.util.spec_from_file_location(fullname, source)
        return None


def prefer_source() -> None:
    """Load the ``COMPILED`` modules from their ``.py`` files when ``PURE_ENV`` is set, or
    when one of them was changed after it was compiled (all of them then: compiled modules
    call each other's compiled code directly, so a stale one would still run)."""
    if any(isinstance(f, _SourceFinder) for f in sys.meta_path):
        return
    stale = stale_modules()
    if stale:
        logger.warning(
            "routing: %s changed since it was compiled; running the .py files (rebuild: "
            "make install)",
            ", ".join(stale),
        )
    if stale or os.environ.get(PURE_ENV):
        sys.meta_path.insert(0, _SourceFinder())


def stale_modules() -> list[str]:
    """``COMPILED`` modules whose ``.py`` file is newer than their build: their extension
    module, or the group's shared library where the compiled code lives (``GROUP``, beside
    the package: the modules' own extension files only load it, and are not rewritten
    when their code changes)."""
    here = os.path.dirname(os.path.abspath(__file__))
    suffixes = importlib.machinery.EXTENSION_SUFFIXES
    library = max(
        (
            os.path.getmtime(path)
            for suffix in suffixes
            if os.path.isfile(
                path := os.path.join(os.path.dirname(here), GROUP + "__mypyc" + suffix)
            )
        ),
        default=0.0,
    )
    found = []
    for name in COMPILED:
        base = os.path.join(here, name.rsplit(".", 1)[1])
        for suffix in suffixes:
            if os.path.isfile(base + suffix):
                built = max(os.path.getmtime(base + suffix), library)
                if os.path.getmtime(base + ".py") > built:
                    found.append(name)
                break
    return found


def compiled() -> list[str]:
    """The ``COMPILED`` modules loaded so far from an extension module."""
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    return [
        name
        for name in COMPILED
        if (module := sys.modules.get(name)) is not None
        and str(getattr(module, "__file__", "")).endswith(suffixes)
    ]
