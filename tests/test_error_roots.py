"""Each package has one exception root with a machine-readable ``code``: every public
exception class a package defines derives from it (and keeps its builtin base, so callers
may catch either)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

from devnet.errors import DevnetError
from intents.errors import OrderError
from routing.errors import RoutingError
from settlement.errors import SettlementError
from solver.errors import SolverError

ROOTS: dict[str, type[Exception]] = {
    "intents": OrderError,
    "routing": RoutingError,
    "settlement": SettlementError,
    "solver": SolverError,
    "devnet": DevnetError,
}


def _modules(package: str) -> list[str]:
    root = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        names.append(info.name)
    return names


def _exceptions(package: str) -> list[type[BaseException]]:
    found = []
    for name in _modules(package):
        module = importlib.import_module(name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(obj, BaseException)
                and obj.__module__ == name
                and not obj.__name__.startswith("_")
            ):
                found.append(obj)
    return found


@pytest.mark.parametrize("package", sorted(ROOTS))
def test_every_exception_derives_from_the_package_root(package: str) -> None:
    root = ROOTS[package]
    classes = _exceptions(package)
    assert root in classes or root.__module__.startswith(package)
    strays = [c.__qualname__ for c in classes if not issubclass(c, root)]
    assert not strays, f"{package} exceptions outside {root.__name__}: {strays}"


def _names_its_code(cls: type[BaseException], root: type[Exception]) -> bool:
    """``cls`` or a class between it and the root sets ``code`` (as a class attribute or in
    a constructor), or the root's constructor takes the code as an argument."""
    for klass in cls.__mro__:
        if klass is root:
            return "__init__" in vars(root)
        if "code" in vars(klass) or "__init__" in vars(klass):
            return True
    return False


@pytest.mark.parametrize("package", sorted(ROOTS))
def test_every_exception_has_its_own_code(package: str) -> None:
    root = ROOTS[package]
    assert isinstance(getattr(root, "code", None), str) or "__init__" in vars(root)
    nameless = [
        c.__qualname__
        for c in _exceptions(package)
        if c is not root and not _names_its_code(c, root)
    ]
    assert not nameless, f"{package} exceptions with only the root's code: {nameless}"


def test_builtin_bases_are_kept() -> None:
    from routing.route import NoRoute
    from settlement.jsonrpc import ChainReadError
    from solver.auction_file import AuctionFormatError

    assert issubclass(NoRoute, LookupError)
    assert issubclass(ChainReadError, ConnectionError)
    assert issubclass(AuctionFormatError, ValueError)
