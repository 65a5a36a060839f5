"""What a user sees while a command runs: progress on a terminal, quiet and unwrapped output
in a pipe, an estimate when a check stage starts, one meaning per timeout flag."""

from __future__ import annotations

import io

from rich.console import Console

from movecheck.cli import check, main
from movecheck.conformance.counterexample import report_console
from movecheck.conformance.progress import EngineProgress, Progress, line
from movecheck.spec.cloudfile import resolve_cloud
from movecheck.spec.engines import progress


def test_a_progress_line_shows_figures_elapsed_and_time_left():
    text = line("bmc", {"depth_done": 2, "depth_total": 8, "seconds": 1.5}, 10.0)
    assert text.startswith("bmc: depth 2 of 8, seconds 1.5; 10 s")
    assert "about 30 s left" in text
    assert "left" not in line("explore", {"states": 1000, "depth": 4}, 3.0)


def _terminal(force: bool) -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, force_terminal=force, width=100, color_system=None), buf


def test_engine_progress_draws_on_a_terminal_only():
    for force in (True, False):
        console, buf = _terminal(force)
        live = EngineProgress(console)
        live.next = 0  # no one-second grace in a test
        with progress.listening(live):
            progress.report("prove bounded", steps_done=3, steps_total=24, current="boot")
        live.close()
        assert ("prove bounded: steps 3 of 24, current boot" in buf.getvalue()) is force
        assert progress.LATEST["prove bounded"]["current"] == "boot"


def test_conform_progress_says_how_many_examples_are_left():
    console, buf = _terminal(True)
    with Progress("conform reference", console=console, total=200) as p:
        p.next = 0
        p.t0 -= 10  # ten seconds in
        p(50, 700, False)
    assert "50 of 200 examples" in buf.getvalue() and "s left" in buf.getvalue()


def test_piped_output_is_never_wrapped(monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    console = report_console()
    console.print("x" * 300)
    assert "x" * 300 in out.getvalue()


def test_each_check_stage_starts_with_an_estimate():
    cloud = resolve_cloud(None, None, None, None)
    for fn in check.STAGES:
        name = fn.__name__.lstrip("_")
        assert name in check.STARTS
        assert "2-core machine)" in check._estimate(name, cloud)
    bigger = resolve_cloud(None, 3, 2, None)
    assert "may take longer" in check._estimate("explore", bigger)


def test_check_asks_which_timeout_is_meant(capsys):
    assert main(["check", "--timeout", "5"]) == 2
    err = capsys.readouterr().err
    assert "--solver-timeout" in err and "--tracker-timeout" in err and err.count("\n") == 1


def test_prove_and_conform_timeouts_have_their_own_names(capsys):
    assert main(["prove", "--solver-timeout", "0"]) == 2
    assert "--solver-timeout must be" in capsys.readouterr().err
    assert main(["conform", "--tracker-timeout", "-1"]) == 2
    assert "--tracker-timeout must be" in capsys.readouterr().err


def test_stdout_sent_to_a_file_stays_there_while_the_live_line_shows(monkeypatch):
    """`movecheck check > log` on a terminal: the live line is on stderr, the results go
    to the file, not drawn on the terminal."""
    console, terminal = _terminal(True)
    log = io.StringIO()
    monkeypatch.setattr("sys.stdout", log)
    live = EngineProgress(console)
    live.next = 0
    with progress.listening(live):
        progress.report("explore", states=10, depth=1)
        print("ok explore: 10 states")
    live.close()
    assert "ok explore: 10 states" in log.getvalue()
    assert "ok explore" not in terminal.getvalue() and "explore: states 10" in terminal.getvalue()
