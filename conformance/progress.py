"""Progress lines on the terminal for runs longer than a second.

Shows examples done (of how many), steps, steps/s, the time left and
counterexamples found; silent when
stderr is not a terminal (CI logs stay clean) and for runs under a second.
"""

from __future__ import annotations

import time


class Progress:
    """Callable ``(examples, steps, found)``; use as a context manager."""

    DELAY = 1.0  # seconds before anything is shown
    EVERY = 0.1  # seconds between refreshes

    def __init__(self, label: str, console=None, total: int | None = None):
        from rich.console import Console

        self.console = console or Console(stderr=True, emoji=False)
        self.enabled = self.console.is_terminal
        self.label = label
        self.total = total  # examples asked for: an estimate of the time left
        self.t0 = time.monotonic()
        self.next = self.t0 + self.DELAY
        self.live = None

    def __enter__(self):
        return self

    def __call__(self, examples: int, steps: int, found: bool) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now < self.next:
            return
        self.next = now + self.EVERY
        rate = steps / (now - self.t0)
        done = f"{examples:,}" + (f" of {self.total:,}" if self.total else "")
        text = (f"{self.label}: {done} examples, {steps:,} steps, {rate:,.0f} steps/s, "
                + ("[bold red]discrepancy found, shrinking[/]" if found else "no discrepancy"))
        if self.total and 0 < examples < self.total and not found:
            # A run stops early at a discrepancy; without one it runs all the examples.
            text += f"; about {(now - self.t0) * (self.total - examples) / examples:.0f} s left"
        if self.live is None:
            from rich.live import Live

            self.live = Live(text, console=self.console, transient=True, auto_refresh=False,
                             redirect_stdout=_stdout_on_terminal(), redirect_stderr=False)
            self.live.start()
        self.live.update(text, refresh=True)

    def __exit__(self, *exc) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None


class EngineProgress:
    """A live line on stderr for whatever engine last reported to
    :mod:`movecheck.spec.engines.progress` (prove, bmc, explore, mutants, ...).

    Listen with ``progress.listening(EngineProgress())``.  Shows the engine's
    figures, the time since it started and, when the figures hold a pair
    ``X_done``/``X_total``, an estimate of the time left.  Silent when stderr
    is not a terminal and for the first second; the line disappears when done.
    """

    DELAY = 1.0
    EVERY = 0.2

    def __init__(self, console=None):
        from rich.console import Console

        self.console = console or Console(stderr=True, emoji=False, highlight=False)
        self.enabled = self.console.is_terminal
        self.started: dict[str, float] = {}
        self.next = time.monotonic() + self.DELAY
        self.live = None

    def __call__(self, engine: str, figures: dict) -> None:
        now = time.monotonic()
        self.started.setdefault(engine, now)
        if not self.enabled or now < self.next:
            return
        self.next = now + self.EVERY
        text = line(engine, figures, now - self.started[engine])
        if self.live is None:
            from rich.live import Live

            self.live = Live(text, console=self.console, transient=True, auto_refresh=False,
                             redirect_stdout=_stdout_on_terminal(), redirect_stderr=False)
            self.live.start()
        self.live.update(text, refresh=True)

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None


def _stdout_on_terminal() -> bool:
    """Route stdout above the live line only when both are on the terminal: redirected
    stdout would otherwise be drawn on stderr and miss the file it was sent to."""
    import sys

    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def line(engine: str, figures: dict, elapsed: float) -> str:
    """``engine: figures, elapsed[, ETA]`` on one line."""
    parts, eta = [], None
    for k, v in figures.items():
        if isinstance(v, (list, tuple, dict)):
            continue
        if k.endswith("_done") and isinstance(figures.get(k[:-5] + "_total"), int):
            total = figures[k[:-5] + "_total"]
            parts.append(f"{k[:-5]} {v} of {total}")
            if 0 < v < total:
                eta = elapsed * (total - v) / v
        elif k.endswith("_total") and k[:-6] + "_done" in figures:
            continue
        else:
            parts.append(f"{k.replace('_', ' ')} {v:,}" if isinstance(v, int) else
                         f"{k.replace('_', ' ')} {v}")
    text = f"{engine}: {', '.join(parts)}; {elapsed:.0f} s"
    if eta is not None:
        text += f", about {eta:.0f} s left"
    return text
