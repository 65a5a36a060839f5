"""Errors that reach the user as one sentence (docs/cli.md, "Exit status").

Every movecheck command catches :class:`InputError` at the top and prints its
message alone, never a traceback (exit status 2).  Raise it with a sentence
that names the field or line at fault and, where possible, the fix.

:class:`Interrupted` is how an engine stopped by Ctrl-C (SIGINT) or SIGTERM
hands back what it had done so far (exit status 130).
"""

from __future__ import annotations

from typing import Any


class InputError(Exception):
    """Bad usage or bad input: one clear sentence, exit status 2."""


class CloudError(InputError):
    """A cloud file or cloud flag that cannot hold."""


class Interrupted(KeyboardInterrupt):
    """An engine was interrupted (SIGINT or SIGTERM) and stopped early.

    Contract: an engine that notices the interrupt raises
    ``Interrupted(partial, message)`` carrying the figures it had reached
    (states, depth, obligations decided, bugs run, ...), or lets a bare
    :class:`KeyboardInterrupt` propagate when it has none.  The command line
    (``movecheck.cli.main``) turns either into: the partial figures on the
    terminal, the ``--json`` report marked ``"complete": false,
    "interrupted": true`` with ``partial`` in it, and exit status 130.  A
    subcommand may wrap it in another ``Interrupted`` whose ``partial`` adds
    its own figures.

    It subclasses :class:`KeyboardInterrupt` so that code which only knows
    about Ctrl-C (``except KeyboardInterrupt``) still stops rather than
    treating it as a failure.
    """

    def __init__(self, partial: dict[str, Any] | None = None, message: str = "interrupted",
                 fields: dict[str, Any] | None = None):
        super().__init__(message)
        self.partial: dict[str, Any] = dict(partial or {})
        self.message = message
        #: Optional report fields the command would have written (a counterexample found
        #: so far, say); the command line puts them at the top of the partial report.
        self.fields: dict[str, Any] = dict(fields or {})

    def __str__(self) -> str:
        return self.message
