"""``python -m movecheck`` and the ``movecheck`` script: the command line.

Ctrl-C and SIGTERM are recorded from the very first moment (importing the
spec takes a second), so that a signal sent while movecheck starts up still
stops it with exit status 130 and a partial report, never with a traceback
or, worse, not at all.
"""

import os
import signal
import sys


def entry() -> int:
    early: list[int] = []

    def record(signum, frame):
        early.append(signum)

    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, record)
    from movecheck.cli import main

    code = main(early_signals=early)
    if code == 130:
        # Interrupted: the report is written and trackers are closed.  Skip tearing down
        # the solver's and the search's data structures, which can take seconds.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(entry())
