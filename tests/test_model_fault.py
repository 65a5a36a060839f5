"""Fault test: kill the tracker process (SIGKILL) between two steps of a move, restart
from the same database file, and check that the audit reproduces the usage, that no
record is lost, and that the move can be finished and agrees with the spec."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from movecheck.model import ReferenceTracker
from movecheck.spec import Spec
from movecheck.spec.vocab import Step

CHILD = r"""
import json, sys
from movecheck.model import ReferenceTracker
from movecheck.spec.cloudfile import default_cloud
from movecheck.spec.vocab import Step
t = ReferenceTracker(sys.argv[1])
t.reset(default_cloud())
for d in json.loads(sys.argv[2]):
    out = t.apply(Step.from_json(d))
    assert out.accepted, (d, out)
print(json.dumps(t.observe().to_json()), flush=True)
sys.stdin.readline()  # wait here until killed
"""

RESIZE = [
    {"step": "boot", "instance": "i1", "host": "h1", "flavor": "small"},
    {"step": "boot", "instance": "i2", "host": "h2", "flavor": "small"},
    {"step": "resize_claim", "migration": "m1", "instance": "i1", "dest": "h2", "flavor": "large"},
    {"step": "resize_migrate", "migration": "m1"},
    {"step": "resize_migrated", "migration": "m1"},
    {"step": "finish_resize", "migration": "m1"},
    {"step": "confirm", "migration": "m1"},
    {"step": "confirm_finish", "migration": "m1"},
]

EVACUATE = [
    {"step": "boot", "instance": "i1", "host": "h1", "flavor": "large"},
    {"step": "host_down", "host": "h1"},
    {"step": "evacuate_start", "migration": "m1", "instance": "i1", "dest": "h2"},
    {"step": "rebuild_claim", "migration": "m1"},
    {"step": "finish_evacuation", "migration": "m1"},
    {"step": "host_up", "host": "h1"},
]


def kill_after(tmp_path, steps):
    db = tmp_path / "model.db"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(db), json.dumps(steps)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()
        assert line, "the child tracker died before reporting"
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
        child.stdin.close()
        child.stdout.close()
    return db, json.loads(line)


@pytest.mark.parametrize("sequence,cut", [(RESIZE, 3), (RESIZE, 4), (RESIZE, 5), (RESIZE, 7),
                                          (EVACUATE, 4), (EVACUATE, 5)])
def test_kill_between_steps_and_restart(tmp_path, sequence, cut):
    db, seen = kill_after(tmp_path, sequence[:cut])
    restarted = ReferenceTracker(db)
    cloud = restarted.reopen()  # every up host's tracker is rebuilt by the audit
    assert restarted.observe().to_json() == seen
    # Finishing the move after the restart agrees with the spec, step by step.
    spec = Spec(cloud)
    state = spec.initial()
    for d in sequence[:cut]:
        state = spec.next_state(state, Step.from_json(d))
    for d in sequence[cut:]:
        step = Step.from_json(d)
        out = restarted.apply(step)
        assert out.accepted, (step, out.reason)
        state = spec.next_state(state, step, out.devices)
        assert restarted.observe() == spec.observe(state), step
    restarted.close()


CHILD_DIES_MID_STEP = r"""
import json, os, signal, sys
from movecheck.model import ReferenceTracker
from movecheck.spec.cloudfile import default_cloud
from movecheck.spec.vocab import Step
t = ReferenceTracker(sys.argv[1])
t.reset(default_cloud())
steps = [Step.from_json(d) for d in json.loads(sys.argv[2])]
for step in steps[:-1]:
    assert t.apply(step).accepted
print(json.dumps(t.observe().to_json()), flush=True)
sys.stdin.readline()
store = t.store
def die(*a, **kw):  # the migration row is written; the process dies before the rest
    os.kill(os.getpid(), signal.SIGKILL)
store.save_instance = die
t.apply(steps[-1])
"""


def test_kill_inside_a_step_loses_the_whole_step(tmp_path):
    """A step is one transaction: killed half-way, none of it is in the database."""
    db = tmp_path / "model.db"
    steps = RESIZE[:3]  # the last one, resize_claim, writes a migration then the instance
    child = subprocess.Popen([sys.executable, "-c", CHILD_DIES_MID_STEP, str(db), json.dumps(steps)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    seen = json.loads(child.stdout.readline())
    child.stdin.write("go\n")
    child.stdin.flush()
    assert child.wait(timeout=30) == -signal.SIGKILL
    child.stdin.close()
    child.stdout.close()
    restarted = ReferenceTracker(db)
    restarted.reopen()
    assert restarted.observe().to_json() == seen
    assert seen["migrations"] == {}
    out = restarted.apply(Step.from_json(steps[-1]))  # and the step can simply be retried
    assert out.accepted
    assert restarted.observe().migrations == {"m1": "pre-migrating"}
    restarted.close()
