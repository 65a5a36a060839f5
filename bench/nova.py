"""Benchmark of the nova tracker (real Nova 34 in a subprocess); prints JSON.

- set-up: the first reset (start the process, import Nova, set up every
  service) and the median reset after it (tear down and set up the harness);
- per move type: the median time of one whole move (every step of it, each
  followed by an observation, as conformance does), and steps/s over all moves;
- the same moves with the harness's own waiting (``MOVECHECK_NOVA_POLL=0.5``,
  one poll: what ``integrated_helpers._wait_for_*`` does) against the
  event-driven waits (1 ms polls on the gates), measured side by side;
- optionally (``--conform N``) steps/s of a short conformance run.

Run: ``MOVECHECK_NOVA_PYTHON=... python bench/nova.py [--repeat R] [--conform N]``.  Not a test.
``--campaign`` runs the conformance campaign whose findings docs/nova.md reports.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from movecheck.conformance.adapters.nova import NovaTracker, check_extra  # noqa: E402
from movecheck.conformance.checker import Checker  # noqa: E402
from movecheck.spec.cloudfile import cloud_from_mapping  # noqa: E402
from movecheck.spec.vocab import Step  # noqa: E402


#: Two flavors with the same root disk: Nova refuses a resize to a smaller
#: disk (docs/nova.md, finding 1), which would end every run at once.
def _cloud(large_disk: int):
    return cloud_from_mapping({
        "hosts": [{"name": f"h{k}", "inventories": {
            "VCPU": {"total": 4}, "MEMORY_MB": {"total": 2048, "reserved": 512},
            "DISK_GB": {"total": 40}}} for k in (1, 2)],
        "flavors": [{"name": "small", "vcpus": 1, "memory_mb": 512, "disk_gb": 10},
                    {"name": "large", "vcpus": 2, "memory_mb": 1024, "disk_gb": large_disk}],
        "instances": ["i1", "i2"], "max_migrations": 2})


EQUAL_DISK = _cloud(10)
CLOUD = cloud_from_mapping({
    "hosts": [{"name": f"h{k}", "inventories": {
        "VCPU": {"total": 4}, "MEMORY_MB": {"total": 2048, "reserved": 512},
        "DISK_GB": {"total": 40}}} for k in (1, 2)],
    "flavors": [{"name": "small", "vcpus": 1, "memory_mb": 512, "disk_gb": 10},
                {"name": "large", "vcpus": 2, "memory_mb": 1024, "disk_gb": 20}],
    "instances": ["i1", "i2"], "max_migrations": 2})


def S(kind, **kw):  # noqa: N802
    return Step(kind, **kw)


MOVES = {
    "boot": [S("boot", instance="i1", host="h1", flavor="small")],
    "resize+confirm": [S("resize_claim", migration="m1", instance="i1", dest="h2", flavor="large"),
                       S("resize_migrate", migration="m1"), S("resize_migrated", migration="m1"),
                       S("finish_resize", migration="m1"), S("confirm", migration="m1"),
                       S("confirm_finish", migration="m1")],
    "resize+revert": [S("resize_claim", migration="m1", instance="i1", dest="h2", flavor="large"),
                      S("resize_migrate", migration="m1"), S("resize_migrated", migration="m1"),
                      S("finish_resize", migration="m1"), S("revert", migration="m1"),
                      S("revert_finish", migration="m1")],
    "cold migrate+confirm": [S("resize_claim", migration="m1", instance="i1", dest="h2",
                               flavor="small"),
                             S("resize_migrate", migration="m1"), S("resize_migrated", migration="m1"),
                             S("finish_resize", migration="m1"), S("confirm", migration="m1"),
                             S("confirm_finish", migration="m1")],
    "live migrate": [S("live_claim", migration="m1", instance="i1", dest="h2"),
                     S("live_queue", migration="m1"), S("live_prepare", migration="m1"),
                     S("live_run", migration="m1"), S("live_complete", migration="m1")],
    "evacuate": [S("host_down", host="h1"), S("evacuate_start", migration="m1", instance="i1",
                                                   dest="h2"),
                 S("rebuild_claim", migration="m1"), S("finish_evacuation", migration="m1"),
                 S("host_up", host="h1")],
    "audit": [S("audit", host="h1")],
    "delete": [S("delete", instance="i1")],
}


def measure(tracker: NovaTracker, repeat: int) -> dict:
    per_move: dict[str, list[float]] = {m: [] for m in MOVES}
    resets = []
    steps = 0
    busy = 0.0
    for _ in range(repeat):
        for move, seq in MOVES.items():
            t = time.perf_counter()
            checker = Checker(CLOUD, tracker, timeout=None)
            checker.reset()
            resets.append(time.perf_counter() - t)
            prefix = [] if move == "boot" else MOVES["boot"]
            for step in prefix:
                checker.apply(step)
            t = time.perf_counter()
            for step in seq:
                checker.apply(step)
            dt = time.perf_counter() - t
            per_move[move].append(dt)
            steps += len(seq)
            busy += dt
    return {"reset_median_s": round(statistics.median(resets), 3),
            "move_median_s": {m: round(statistics.median(v), 3) for m, v in per_move.items()},
            "steps_per_s": round(steps / busy, 2)}


#: The campaign (docs/nova.md, "Campaign"): focused runs, each leaving out the
#: step kinds of the others, so that one discrepancy does not hide the rest.
EVACUATION = ("host_down", "host_up", "evacuate_start", "rebuild_claim", "finish_evacuation")
CAMPAIGN = {
    "moves: resize, cold and live migration with confirm, revert, abort and audits":
        ("fail", "delete", *EVACUATION),
    "failures of every move (fail)": ("delete", *EVACUATION),
    "evacuation, the source back before and after the rebuild": ("fail", "delete"),
    "delete during moves": ("fail", *EVACUATION),
    "everything": (),
}


def campaign(python: str, examples: int, steps: int, seed: int, only: str = "") -> list[dict]:
    from movecheck.conformance.driver import run_conformance
    from movecheck.spec.cloudfile import default_cloud

    runs = []
    for name, off in CAMPAIGN.items():
        if only not in name:
            continue
        clouds = ((("default (devices)", default_cloud()),) if name == "everything"
                  else (("equal root disks", EQUAL_DISK),))
        for cloud_name, cloud in clouds:
            r = run_conformance(lambda off=off: NovaTracker(python, unsupported=off), cloud,
                                examples=examples, steps=steps, seed=seed, timeout=None,
                                label="nova")
            d = r.discrepancy
            runs.append({
                "run": name, "cloud": cloud_name, "left_out": list(off), "seed": seed,
                "examples": r.examples, "steps": r.steps, "seconds": round(r.seconds, 1),
                "steps_accepted": dict(r.coverage.accepted),
                "status_edges": len(r.coverage.edges),
                "discrepancy": None if d is None else {
                    "message": str(d), "trace": d.trace, "expected": d.expected,
                    "observed": d.observed, "invariants": d.invariants}})
            print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
            if r.interrupted:
                return runs
    return runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--conform", type=int, default=0, metavar="N",
                    help="also a conformance run of N examples")
    ap.add_argument("--campaign", action="store_true",
                    help="run the conformance campaign of docs/nova.md instead")
    ap.add_argument("--examples", type=int, default=15)
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", default="", help="campaign runs whose name contains this")
    args = ap.parse_args()
    python = check_extra()
    if args.campaign:
        print(json.dumps({"campaign": campaign(python, args.examples, args.steps, args.seed,
                                                   args.only),
                          "cpus": os.cpu_count(), "load_average": list(os.getloadavg())},
                         indent=1))
        return
    out: dict = {"python": platform.python_version(), "cpus": os.cpu_count(),
                 "repeat": args.repeat, "load_average": list(os.getloadavg())}
    t = time.perf_counter()
    tracker = NovaTracker(python)
    tracker.reset(CLOUD)
    out["first_reset_s"] = round(time.perf_counter() - t, 2)
    out["event_driven"] = measure(tracker, args.repeat)
    tracker.close()

    # The harness's way of waiting: one status poll every 0.5 s.
    saved = {k: os.environ.get(k) for k in ("MOVECHECK_NOVA_POLL", "MOVECHECK_NOVA_CALM")}
    os.environ.update(MOVECHECK_NOVA_POLL="0.5", MOVECHECK_NOVA_CALM="1")
    slow = NovaTracker(python)
    slow.reset(CLOUD)
    out["harness_polling"] = measure(slow, 1)
    slow.close()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    out["speedup_vs_harness_polling"] = round(
        out["event_driven"]["steps_per_s"] / out["harness_polling"]["steps_per_s"], 2)

    if args.conform:
        from movecheck.conformance.driver import run_conformance

        r = run_conformance(lambda: NovaTracker(python), CLOUD, examples=args.conform, steps=10,
                            seed=0, timeout=None, label="nova")
        out["conformance"] = {"examples": r.examples, "steps": r.steps,
                              "seconds": round(r.seconds, 1),
                              "steps_per_s": round(r.steps_per_second, 2),
                              "discrepancy": None if r.discrepancy is None else str(r.discrepancy)}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
