"""A progress line on the terminal for runs longer than a second (issue 5 item 2).

Shows examples done, steps, steps/s and counterexamples found; silent when
stderr is not a terminal (CI logs stay clean) and for runs under a second.
"""

from __future__ import annotations

import time


class Progress:
    """Callable ``(examples, steps, found)``; use as a context manager."""

    DELAY = 1.0  # seconds before anything is shown
    EVERY = 0.1  # seconds between refreshes

    def __init__(self, label: str, console=None):
        from rich.console import Console

        self.console = console or Console(stderr=True, emoji=False)
        self.enabled = self.console.is_terminal
        self.label = label
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
        text = (f"{self.label}: {examples:,} examples, {steps:,} steps, {rate:,.0f} steps/s, "
                + ("[bold red]discrepancy found, shrinking[/]" if found else "no discrepancy"))
        if self.live is None:
            from rich.live import Live

            self.live = Live(text, console=self.console, transient=True, auto_refresh=False)
            self.live.start()
        self.live.update(text, refresh=True)

    def __exit__(self, *exc) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None
