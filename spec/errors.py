"""Errors that reach the user as one sentence and exit status 2 (design.md section 7).

Every movecheck command catches :class:`InputError` at the top and prints its
message alone, never a traceback.  Raise it with a sentence that names the
field or line at fault and, where possible, the fix.
"""


class InputError(Exception):
    """Bad usage or bad input: one clear sentence, exit status 2."""


class CloudError(InputError):
    """A cloud file or cloud flag that cannot hold."""
