"""Benchmark of the nova tracker (real Nova 34 in a subprocess); prints JSON.

- set-up: the first reset (start the process, import Nova, set up every
  service) and the median reset after it (tear down and set up the harness);
- per move type: the median time of one whole move (every step of it, each
  followed by an observation, as conformance does), and steps/s over all moves;
- optionally (``--baseline OLD_SERVER_PY``) an older server measured side by side,
  round by round, and (``--harness-polling``) the harness's own waiting
  (``MOVECHECK_NOVA_POLL=0.5``, one poll: what ``integrated_helpers._wait_for_*`` does);
- CPU seconds of each move (Nova's process and this one), which other jobs on a
  shared machine do not change: steps per CPU second is what a quiet machine gets;
- optionally (``--conform N``) steps/s of a short conformance run.

Run: ``MOVECHECK_NOVA_PYTHON=... python bench/nova.py [--repeat R] [--baseline OLD]``.  Not a test.
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


def _nova_cpu(tracker: NovaTracker) -> float:
    """CPU seconds used so far by the Nova process (user + system, Linux ``/proc``)."""
    try:
        with open(f"/proc/{tracker.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, AttributeError, IndexError, ValueError):
        return 0.0


def _cpu(tracker: NovaTracker) -> float:
    """CPU seconds used so far by the Nova process and by this one (the spec's side):
    a figure the other jobs on a shared machine do not change."""
    return time.process_time() + _nova_cpu(tracker)


def measure_once(tracker: NovaTracker) -> dict:
    """Every move once, each after a reset (and a boot): wall and CPU seconds."""
    out: dict = {"reset": [], "moves": {}}
    for move, seq in MOVES.items():
        t = time.perf_counter()
        checker = Checker(CLOUD, tracker, timeout=None)
        checker.reset()
        out["reset"].append(time.perf_counter() - t)
        for step in ([] if move == "boot" else MOVES["boot"]):
            checker.apply(step)
        t, c, n = time.perf_counter(), _cpu(tracker), _nova_cpu(tracker)
        for step in seq:
            checker.apply(step)
        out["moves"][move] = (time.perf_counter() - t, _cpu(tracker) - c, len(seq),
                              _nova_cpu(tracker) - n)
    return out


def summarise(rounds: list[dict]) -> dict:
    """Medians over the rounds; steps/s over all moves (wall) and per CPU second."""
    med = statistics.median
    moves = list(MOVES)
    wall = {m: med(r["moves"][m][0] for r in rounds) for m in moves}
    cpu = {m: med(r["moves"][m][1] for r in rounds) for m in moves}
    steps = sum(len(MOVES[m]) for m in moves)
    return {"first_reset_s": round(med(r["first_reset"] for r in rounds), 2),
            "reset_median_s": round(med(x for r in rounds for x in r["reset"]), 3),
            "move_median_s": {m: round(v, 3) for m, v in wall.items()},
            "move_median_cpu_s": {m: round(v, 3) for m, v in cpu.items()},
            "nova_share_of_cpu": round(sum(r["moves"][m][3] for r in rounds for m in moves)
                                       / sum(r["moves"][m][1] for r in rounds for m in moves), 2),
            "steps_per_s": round(steps / sum(wall.values()), 2),
            "steps_per_cpu_s": round(steps / sum(cpu.values()), 2)}


def run_round(python: str, server: Path | None = None) -> dict:
    """One fresh Nova process: the first reset, then every move once."""
    from movecheck.conformance.adapters import nova as adapter

    saved = adapter.SERVER
    if server is not None:
        adapter.SERVER = server
    try:
        tracker = NovaTracker(python)
    finally:
        adapter.SERVER = saved
    try:
        t = time.perf_counter()
        tracker.reset(CLOUD)
        first = time.perf_counter() - t
        out = measure_once(tracker)
    finally:
        tracker.close()
    out["first_reset"] = first
    return out


#: The campaign (docs/nova.md, "Campaign"): focused runs, each leaving out the
#: step kinds of the others, so that one discrepancy does not hide the rest.
EVACUATION = ("host_down", "host_up", "evacuate_start", "rebuild_claim", "finish_evacuation")
CAMPAIGN = {
    "evacuation, the source back before and after the rebuild": ("fail", "delete"),
    "failures of every move (fail), reset_state": ("delete", *EVACUATION),
    "everything": (),
    "delete during moves": ("fail", *EVACUATION),
    "moves: resize, cold and live migration with confirm, revert, abort and audits":
        ("fail", "delete", *EVACUATION),
}


def _equal_disks(cloud):
    """The cloud with every flavor's root disk made the smallest one's (finding 1)."""
    data = cloud.to_json()
    disk = min(f["disk_gb"] for f in data["flavors"])
    data["flavors"] = [{**f, "disk_gb": disk} for f in data["flavors"]]
    return cloud_from_mapping(data)


def campaign(python: str, examples: int, steps: int, seed: int, only: str = "") -> list[dict]:
    from movecheck.conformance.driver import run_conformance
    from movecheck.spec.cloudfile import default_cloud

    runs = []
    for name, off in CAMPAIGN.items():
        if only not in name:
            continue
        clouds = ((("default, equal root disks (devices)", _equal_disks(default_cloud())),)
                  if name == "everything" else (("equal root disks", EQUAL_DISK),))
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


def perf_table(out: dict) -> str:
    """The performance table of docs/nova.md, from this script's JSON (``--table``)."""
    cols = [c for c in ("baseline", "event_driven", "harness_polling") if c in out]
    names = {"baseline": "before (baseline server)", "event_driven": "after",
             "harness_polling": "the harness's 0.5 s polls"}
    rows = ["| | " + " | ".join(f"{names[c]} wall s | CPU s" for c in cols) + " |",
            "|---|" + "---|---|" * len(cols)]

    def row(label, key, sub=None, bold=False):
        cells = []
        for c in cols:
            v = out[c][key] if sub is None else out[c][key][sub]
            cpu = "" if sub is None else out[c]["move_median_cpu_s"][sub]
            cells.append(f"{v} | {cpu}")
        text = f"| {label} | " + " | ".join(cells) + " |"
        return text.replace("| ", "| **", 1).replace(" |", "** |", 1) if bold else text

    rows.append(row("first reset (start, import Nova, set up)", "first_reset_s"))
    rows.append(row("reset (median)", "reset_median_s"))
    for m in MOVES:
        rows.append(row(f"{m} ({len(MOVES[m])} step{'s' if len(MOVES[m]) > 1 else ''})",
                        "move_median_s", m))
    rows.append("| **steps/s (wall)** | " + " | ".join(
        f"**{out[c]['steps_per_s']}** | " for c in cols) + " |")
    rows.append("| **steps per CPU second** | " + " | ".join(
        f" | **{out[c]['steps_per_cpu_s']}**" for c in cols) + " |")
    load = out.get("load_average_before", [0])[0], out.get("load_average_after", [0])[0]
    rows.append("")
    rows.append(f"Medians of {out['repeat']} rounds, {out['cpus']} CPUs, load average "
                f"{load[0]:.1f} before and {load[1]:.1f} after (1 min).")
    return "\n".join(rows)


def campaign_table(out: dict) -> str:
    """The campaign table of docs/nova.md, from ``--campaign`` JSON (``--table``)."""
    rows = ["| run | cloud | examples | steps | seconds | status edges | result |",
            "|---|---|---|---|---|---|---|"]
    for r in out["campaign"]:
        d = r["discrepancy"]
        result = "conformant" if d is None else (
            f"discrepancy {d['message'].splitlines()[0][:120]}")
        rows.append(f"| {r['run']} | {r['cloud']} | {r['examples']} | {r['steps']} | "
                    f"{r['seconds']} | {r['status_edges']} | {result} |")
    rows.append("")
    rows.append(f"Seed {out['campaign'][0]['seed'] if out['campaign'] else '-'}, "
                f"{out['cpus']} CPUs, load average {out['load_average'][0]:.1f} at the end.")
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--baseline", type=Path, metavar="SERVER_PY",
                    help="also measure this server.py (e.g. an older one), round by round "
                         "alternating with this one")
    ap.add_argument("--harness-polling", action="store_true",
                    help="also measure waiting as the harness does (one 0.5 s poll)")
    ap.add_argument("--conform", type=int, default=0, metavar="N",
                    help="also a conformance run of N examples")
    ap.add_argument("--campaign", action="store_true",
                    help="run the conformance campaign of docs/nova.md instead")
    ap.add_argument("--examples", type=int, default=15)
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", default="", help="campaign runs whose name contains this")
    ap.add_argument("--table", type=Path, metavar="JSON",
                    help="print the docs/nova.md table of a saved run of this script")
    args = ap.parse_args()
    if args.table:
        saved = json.loads(args.table.read_text())
        print(campaign_table(saved) if "campaign" in saved else perf_table(saved))
        return
    python = check_extra()
    if args.campaign:
        print(json.dumps({"campaign": campaign(python, args.examples, args.steps, args.seed,
                                                   args.only),
                          "cpus": os.cpu_count(), "load_average": list(os.getloadavg())},
                         indent=1))
        return
    out: dict = {"python": platform.python_version(), "cpus": os.cpu_count(),
                 "repeat": args.repeat, "load_average_before": list(os.getloadavg())}
    variants: dict[str, tuple[Path | None, dict]] = {"event_driven": (None, {})}
    if args.baseline:
        variants = {"baseline": (args.baseline, {}), **variants}
    if args.harness_polling:
        # The harness's way of waiting: one status poll every 0.5 s.
        variants["harness_polling"] = (None, {"MOVECHECK_NOVA_POLL": "0.5",
                                              "MOVECHECK_NOVA_CALM": "1"})
    rounds: dict[str, list[dict]] = {v: [] for v in variants}
    for _ in range(args.repeat):  # side by side: one round of each variant in turn
        for name, (server, env) in variants.items():
            saved = {k: os.environ.get(k) for k in env}
            os.environ.update(env)
            try:
                rounds[name].append(run_round(python, server))
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
    for name in variants:
        out[name] = summarise(rounds[name])
    for name in variants:
        if name != "event_driven":
            out[f"speedup_vs_{name}"] = {
                k: round(out["event_driven"][k] / out[name][k], 2)
                for k in ("steps_per_s", "steps_per_cpu_s")}
    out["load_average_after"] = list(os.getloadavg())

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
