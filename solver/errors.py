"""The solver package's exception root: every error the solver raises on purpose is a
``SolverError`` with a machine-readable ``code``, and also the builtin it behaves like (an
unreadable auction or a rejected solution is a ``ValueError``, an unknown engine a
``LookupError``), so callers catch either. The HTTP edge (``solve_api``) and the CLI
translate ``code`` for users. Not to be confused with ``dto.SolverError``, the wire answer
CoW's driver reads."""

from __future__ import annotations


class SolverError(Exception):
    """Root of the solver's errors; ``code`` is machine-readable, the message a sentence."""

    code: str = "SolverError"
