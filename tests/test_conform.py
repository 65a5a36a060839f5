"""Conformance driver and ``movecheck conform`` (issue 5 items 2-4)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import spec_tracker

from movecheck.cli import main
from movecheck.conformance.driver import run_conformance
from movecheck.spec.cloudfile import default_cloud
from movecheck.spec.steps import STEPS

TESTS = Path(__file__).parent
CLOUD = default_cloud()


def test_the_spec_itself_is_conformant_and_coverage_is_reported():
    r = run_conformance(spec_tracker.factory, CLOUD, examples=40, steps=30, seed=7)
    assert r.discrepancy is None and r.ok
    assert r.examples >= 40 and r.steps > 500
    cov = r.coverage.to_json()
    assert "boot" in cov["steps_accepted"] and len(cov["steps_accepted"]) >= 15
    assert cov["steps_rejected"]  # rejected steps are generated too
    edges = cov["status_edges"]["resize"]
    assert ["∅", "pre-migrating"] in edges["exercised"]
    # 17 resize edges: delete confirms from finished/confirming, audit turns error into
    # failed, a refused resize_claim creates its record error
    assert len(edges["exercised"]) + len(edges["never"]) == 17


def test_a_leak_on_confirm_is_caught_and_shrunk_to_the_seven_step_resize():
    found = []
    r = run_conformance(spec_tracker.leaky_factory, CLOUD, examples=100, steps=30, seed=1,
                        on_found=lambda d, c: found.append(d))
    d = r.discrepancy
    assert [e["step"] for e in d.trace] == [
        "boot", "resize_claim", "resize_migrate", "resize_migrated", "finish_resize", "confirm",
        "confirm_finish"]
    assert d.step_index == 6 and d.category == "observation"
    assert {"conservation", "confirm_frees_source"} <= set(d.invariants)
    assert "1707071" in d.bugs and "1818914" in d.bugs
    assert d.expected["usage"] != d.observed["usage"]
    # every shorter counterexample was handed out as soon as it was found
    assert found and len(found[0].trace) >= len(found[-1].trace) == 7


@pytest.mark.parametrize("cloud", [CLOUD, None], ids=["pinned", "generated"])
def test_seeded_runs_repeat(cloud):
    # seed 1 finds the leak on both clouds within 100 examples (the seed is arbitrary:
    # what is tested is that the same seed repeats the same search)
    a = run_conformance(spec_tracker.leaky_factory, cloud, examples=100, seed=1)
    b = run_conformance(spec_tracker.leaky_factory, cloud, examples=100, seed=1)
    assert a.discrepancy is not None
    assert a.discrepancy.trace == b.discrepancy.trace and a.steps == b.steps
    assert a.failing_cloud == b.failing_cloud


@pytest.mark.parametrize("factory, words", [
    (spec_tracker.raising_factory, "raised RuntimeError: audit exploded"),
    (spec_tracker.garbage_factory, "returned {'result': 'maybe'}, not an Outcome"),
])
def test_a_tracker_that_raises_or_returns_garbage_is_a_discrepancy(factory, words):
    r = run_conformance(factory, CLOUD, examples=50, seed=2)
    assert r.discrepancy.category == "fault"
    assert words in r.discrepancy.message
    assert len(r.discrepancy.trace) == 1
    assert r.discrepancy.trace[0]["step"] in r.discrepancy.message


def test_a_tracker_that_hangs_times_out_per_call():
    r = run_conformance(spec_tracker.hanging_factory, CLOUD, examples=20, seed=2, timeout=0.2)
    assert "did not return within 0.2 s" in r.discrepancy.message
    assert r.discrepancy.trace[-1]["step"] == "audit"
    assert r.seconds < 20


class _Declines:
    """The reference tracker, declaring one step unsupported and rejecting it."""

    def __init__(self, kind):
        from movecheck.model import reference_factory

        self.inner = reference_factory()
        self.capabilities = self.inner.capabilities
        self.unsupported_steps = frozenset({kind})
        self.kind, self.asked = kind, 0

    def reset(self, cloud):
        self.inner.reset(cloud)

    def apply(self, step):
        from movecheck.spec.vocab import Outcome

        if step.kind == self.kind:
            self.asked += 1
            return Outcome.reject(f"unsupported: {step.kind}")
        return self.inner.apply(step)

    def observe(self):
        return self.inner.observe()

    def close(self):
        self.inner.close()


@pytest.mark.parametrize("kind", list(STEPS))
def test_a_step_declared_unsupported_is_never_generated(kind):
    tracker = _Declines(kind)
    r = run_conformance(None, None, examples=25, seed=1, tracker=tracker)
    assert r.ok, r.discrepancy
    assert tracker.asked == 0 and r.unsupported_steps == (kind,)
    assert kind not in r.coverage.accepted and kind not in r.coverage.rejected
    assert r.steps > 100


@pytest.mark.parametrize("factory", [
    spec_tracker.ratio_before_reserved_factory,  # total x ratio - reserved
    spec_tracker.float_capacity_factory,  # (100 - 0) x 1.15 = 114.99999999999999
    spec_tracker.evacuation_skips_capacity_factory,  # rebuild_claim skips the capacity test
    spec_tracker.restart_forgets_outbound_factory,  # host_up forgets migrations away from it
])
@pytest.mark.parametrize("seed", [0, 1])
def test_bugs_the_default_cloud_hid_are_caught_by_a_default_run(factory, seed):
    r = run_conformance(factory, None, seed=seed)
    assert r.discrepancy is not None, f"{factory.__name__} escaped seed {seed}"
    assert len(r.discrepancy.trace) <= 8


def test_unsupported_steps_are_not_generated_and_are_reported():
    r = run_conformance(spec_tracker.usage_only_factory, CLOUD, examples=30, seed=4)
    assert r.ok and r.capabilities == frozenset({"usage"})
    assert r.unsupported_steps == ("evacuate_start", "rebuild_claim", "finish_evacuation")
    cov = r.coverage.to_json()
    assert not {"evacuate_start", "rebuild_claim"} & set(cov["steps_accepted"])
    assert not {"evacuate_start", "rebuild_claim"} & set(cov["steps_rejected"])


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])
    env.pop("MOVECHECK_REPLAY_TRACKER", None)
    return env


def test_cli_report_and_replay_file_fail_on_the_bug_and_pass_on_the_reference(tmp_path, capsys):
    report, replay = tmp_path / "r.json", tmp_path / "test_replay_leak.py"
    code = main(["conform", "--tracker", "spec_tracker:leaky_factory", "--seed", "1",
                 "--json", str(report), "--replay-out", str(replay)])
    out = capsys.readouterr().out
    assert code == 1
    assert "DISCREPANCY" in out and "confirm_frees_source" in out
    # Which host shows the leak depends on the generated sequence (and so on the
    # Hypothesis version).
    assert re.search(r"usage h\d VCPU", out)
    # The replay file is the program the run printed, line for line.
    program = replay.read_text()
    assert program.strip() in out
    assert "state = Replay('spec_tracker:leaky_factory', CLOUD)" in program
    assert "state.confirm_finish(migration=" in program
    assert "first failure found after" in out and "shrinking took" in out
    data = json.loads(report.read_text())
    assert data["command"] == "conform" and data["ok"] is False
    assert {"tracker", "examples", "steps", "discrepancy", "coverage"} <= set(data)
    disc = data["discrepancy"]
    assert {"trace", "step_index", "expected", "observed", "invariants"} <= set(disc)
    assert disc["step_index"] == len(disc["trace"]) - 1 == 6
    run = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(replay)]
    failing = subprocess.run(run, cwd=tmp_path, env=_env(), capture_output=True, text=True)
    assert failing.returncode == 1, failing.stdout
    assert "confirm_frees_source" in failing.stdout
    fixed = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True,
                           env=dict(_env(), MOVECHECK_REPLAY_TRACKER="reference"))
    assert fixed.returncode == 0, fixed.stdout
    edited = replay.read_text().replace("'spec_tracker:leaky_factory'", "'reference'")
    replay.write_text(edited)
    assert subprocess.run(run, cwd=tmp_path, env=_env(), capture_output=True).returncode == 0


def test_reference_tracker_conforms_with_default_settings(tmp_path):
    report = tmp_path / "r.json"
    assert main(["conform", "--tracker", "reference", "--seed", "5", "--json", str(report)]) == 0
    data = json.loads(report.read_text())
    assert data["ok"] is True and data["discrepancy"] is None
    assert data["examples"] >= 200 and data["steps"] >= 2000
    assert len(data["coverage"]["steps_accepted"]) >= 20


def test_ctrl_c_while_shrinking_still_writes_the_report(tmp_path):
    report, replay = tmp_path / "r.json", tmp_path / "test_replay.py"
    code = main(["conform", "--tracker", "spec_tracker:interrupting_factory", "--seed", "1",
                 "--json", str(report), "--replay-out", str(replay)])
    assert code == 130
    data = json.loads(report.read_text())
    assert data["ok"] is False and data["interrupted"] is True and data["complete"] is False
    assert data["discrepancy"]["trace"][-1]["step"] == "confirm_finish"
    assert "def test_counterexample" in replay.read_text()


@pytest.mark.parametrize("argv, words", [
    (["--tracker", "frobnicate"],
     "the built-in trackers are reference, spec, placement, nova, jsonl:COMMAND"),
    (["--tracker", "no_such_module_xyz:factory"], "no module named 'no_such_module_xyz'"),
    (["--tracker", "spec_tracker:nothing_here"], "spec_tracker has no 'nothing_here'"),
    (["--tracker", "jsonl:"], "needs a command"),
    (["--examples", "0"], "--examples must be from 1"),
    (["--timeout", "-1"], "--tracker-timeout must be a positive number"),
])
def test_bad_usage_is_one_sentence_and_exit_2(argv, words, capsys):
    assert main(["conform", *argv]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_database_none_leaves_nothing_in_the_working_directory(tmp_path):
    env = _env()
    env.pop("HYPOTHESIS_STORAGE_DIRECTORY", None)
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS.parent), env["PYTHONPATH"]])
    run = subprocess.run([sys.executable, "-m", "movecheck", "conform", "--examples", "5",
                          "--seed", "1", "--database", "none"], cwd=tmp_path, env=env,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert list(tmp_path.iterdir()) == []  # not even .hypothesis/constants/


def test_a_tracker_named_by_file_path(tmp_path):
    f = tmp_path / "my_tracker.py"
    f.write_text("from movecheck.conformance.adapters.spec import SpecTracker\n\n"
                 "def make():\n    return SpecTracker()\n")
    assert main(["conform", "--tracker", f"{f}:make", "--examples", "5", "--seed", "1"]) == 0
    assert main(["conform", "--tracker", f"{tmp_path}/nope.py:make"]) == 2


@pytest.mark.slow
def test_same_seed_same_examples_from_a_checkout_and_a_site_packages_install(tmp_path):
    """Hypothesis mixes constants from local source files into some draws; a run
    empties that pool (no_local_constants), so an installed movecheck generates
    exactly what a checkout does."""
    import shutil

    site = tmp_path / "lib" / "site-packages"
    shutil.copytree(TESTS.parent / "movecheck", site / "movecheck", symlinks=False,
                    ignore=shutil.ignore_patterns("__pycache__"))
    code = ("import spec_tracker, json\n"
            "from movecheck.conformance.driver import run_conformance\n"
            "r = run_conformance(spec_tracker.leaky_factory, None, examples=60, seed=3)\n"
            "print(json.dumps([r.steps, r.discrepancy.trace, r.failing_cloud.to_json()]))\n")
    outs = []
    for root in (TESTS.parent, site):
        env = dict(_env(), PYTHONPATH=os.pathsep.join([str(root), str(TESTS)]))
        run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                             capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        outs.append(run.stdout)
    assert "site-packages" in str(site) and outs[0] == outs[1]


def test_a_run_draws_from_no_local_constants(tmp_path, monkeypatch):
    """Hypothesis mines constants from every local module imported so far (under
    pytest: the test modules too) and mixes them into some draws; inside a run the
    local pool is empty, so a seed's examples do not depend on sys.modules."""
    from hypothesis.internal.conjecture import providers

    from movecheck.conformance.faults import no_local_constants

    (tmp_path / "constants_galore.py").write_text(
        "VALUES = (" + ", ".join(str(k) for k in range(100, 5000, 7)) + ")\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    __import__("constants_galore")
    assert len(providers._get_local_constants()) > 0
    original = providers._get_local_constants
    with no_local_constants():
        assert len(providers._get_local_constants()) == 0
    assert providers._get_local_constants is original


def test_every_generated_cloud_is_a_valid_cloud_file():
    from hypothesis import given, settings

    from movecheck.conformance.clouds import clouds
    from movecheck.spec.vocab import Cloud

    @settings(max_examples=300, database=None, deadline=None)
    @given(clouds())
    def check(cloud):
        assert Cloud.from_json(cloud.to_json()) == cloud  # every flavor fits some host

    check()


def test_a_wrong_device_pick_is_reported_as_a_wrong_pick_not_as_broken_accounting():
    """The step is compared on its own: no usage against the state before the step, no
    conservation / no_ghosts blamed on a tracker whose only fault is its pick."""
    from movecheck.conformance.counterexample import render_text

    r = run_conformance(spec_tracker.wrong_pick_factory, CLOUD, examples=50, seed=3)
    d = r.discrepancy
    assert d is not None and d.category == "pick"
    assert "pci-wrong" in d.message and "not a free device" in d.message
    # pci-wrong is not a device of the host: devices_exclusive ("held on its own host") is
    # the only invariant named, and no accounting invariant is blamed.
    assert d.invariants == ["devices_exclusive"]
    assert "usage" not in d.expected and "usage" not in d.observed
    text = render_text(CLOUD, d, "wrong-pick")
    assert "device pick" in text and "usage h1 VCPU" not in text
    assert "conservation" not in text and "no_ghosts" not in text
    last = [ln for ln in text.splitlines() if ln.startswith(f"│ {len(d.trace)} ")][-1]
    assert "pci-wrong" in last and last.count(" - ") >= len(CLOUD.hosts)
