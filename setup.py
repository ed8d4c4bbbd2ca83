"""The build: the routing modules on the hot path (pool math, path choice, quotes) are
compiled with mypyc when it is available (issue 12, the hot path: each order's routing
makes thousands of exact pool calls); the same ``.py`` files are the pure-Python fallback
and compute the same amounts (``routing.native``).

``TRIBUTARY_PURE_PYTHON=1`` at install time builds nothing; at run time it loads the
``.py`` files even where compiled modules were built. A failed compile (no C compiler)
leaves a working pure-Python install.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from routing.native import COMPILED, GROUP  # what the run-time switch reads too


class OptionalBuildExt(build_ext):
    """``build_ext`` that leaves the pure-Python modules in place when compiling fails."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as error:  # no compiler, missing headers: the .py files still work
            print(f"routing: mypyc build failed ({error}); pure Python is used", file=sys.stderr)


def _extensions() -> list[Any]:
    if os.environ.get("TRIBUTARY_PURE_PYTHON"):
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        return []
    paths = [module.replace(".", "/") + ".py" for module in COMPILED]
    return list(mypycify(paths, opt_level="3", group_name=GROUP))


setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
