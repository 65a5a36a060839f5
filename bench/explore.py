"""Benchmark of exhaustive exploration (issue 13): prints JSON.

For each cloud and each number of workers: distinct states (full and up to
symmetry), transitions, depth, seconds, states/s (stored states per second)
and peak memory (RSS of the whole process tree, sampled).  Each run is its
own process, so peak memory is that run's.

The yardstick: the two-phase commit model (3 resource managers, 288 states,
:mod:`movecheck.spec.engines.twophase`) explored by the same engine in the
same run, before and after the clouds.  A cloud's ``yardstick_ratio`` is its
states/s divided by the yardstick's: figures from different machines, or
from one busy machine at different moments, compare by that ratio.

    python bench/explore.py                 # default, 3x2x2, 3x3x1; 1 and 2 workers
    python bench/explore.py --quick         # small clouds only (smoke run)
    python bench/explore.py --clouds 2x2x2 --workers 2
    python bench/explore.py --clouds 2x2x2 --repeat 3   # medians of 3, runs alternated
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time

CLOUDS = {"2x2x2": "default (2 hosts x 2 instances, 2 migrations)",
          "3x2x2": "3 hosts x 2 instances, 2 migrations",
          "3x3x1": "3 hosts x 3 instances, 1 migration"}
QUICK = {"2x1x2": "2 hosts x 1 instance, 2 migrations",
         "2x2x1": "2 hosts x 2 instances, 1 migration"}


def yardstick(seconds: float = 2.0) -> dict:
    """States/s of the two-phase commit model (no symmetry, one process), over ``seconds``."""
    from movecheck.spec.engines.explore import explore
    from movecheck.spec.engines.twophase import TwoPhase

    states = 0
    runs = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        r, _ = explore(TwoPhase(3), workers=1)
        assert r.states == 288
        states += r.reduced_states
        runs += 1
    elapsed = time.perf_counter() - t0
    return {"model": "two-phase commit, 3 resource managers (288 states)", "runs": runs,
            "states_per_second": round(states / elapsed)}


def one(shape: str, workers: int) -> dict:
    """Explore one cloud in this process; peak RSS of this process and its workers."""
    from movecheck.spec import Spec, default_cloud
    from movecheck.spec.engines.explore import explore

    try:
        import psutil
    except ImportError:  # peak RSS from getrusage: the largest process, not their sum
        psutil = None

    peak = [0]
    done = threading.Event()

    def sample() -> None:
        me = psutil.Process()
        while not done.wait(0.2):
            try:
                procs = [me, *me.children(recursive=True)]
                peak[0] = max(peak[0], sum(p.memory_info().rss for p in procs))
            except psutil.Error:
                pass

    watcher = threading.Thread(target=sample, daemon=True)
    if psutil is not None:
        watcher.start()
    h, i, m = (int(x) for x in shape.split("x"))
    cpu0 = time.process_time()
    r, _ = explore(Spec(default_cloud(h, i, m)), workers=workers)
    done.set()
    if psutil is not None:
        watcher.join()
    else:
        peak[0] = 1024 * max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                             resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = time.process_time() - cpu0 + children.ru_utime + children.ru_stime
    return {"states": r.states, "reduced_states": r.reduced_states,
            "transitions": r.transitions, "depth": r.depth, "complete": r.complete,
            "violations": len(r.violations), "workers": workers,
            "seconds": round(r.seconds, 2), "states_per_second": round(r.states_per_second),
            "full_states_per_second": round(r.states / r.seconds) if r.seconds else None,
            "peak_rss_mb": round(peak[0] / 2**20),
            # CPU seconds of every process: on a busy machine, closer than wall time to what
            # a quiet one takes (divide by the workers for a quiet machine's wall time).
            "cpu_seconds": round(cpu, 1)}


def side_by_side(shapes=("2x2x1", "3x1x1", "2x1x2"), repeat: int = 3) -> list[dict]:
    """CPU seconds (median of ``repeat``, one process) of the plain search (whole states,
    no symmetry: the design before issue 13) against the default one, alternated so
    that both see the same load."""
    from movecheck.spec import Spec, default_cloud
    from movecheck.spec.engines.explore import explore

    out = []
    for shape in shapes:
        cloud = default_cloud(*(int(x) for x in shape.split("x")))
        plain, fast = [], []
        for _ in range(repeat):
            c = time.process_time()
            a, _ = explore(Spec(cloud), symmetry=False, full_states=True)
            plain.append(time.process_time() - c)
            c = time.process_time()
            b, _ = explore(Spec(cloud))
            fast.append(time.process_time() - c)
            assert (a.states, a.transitions) == (b.states, b.transitions)
        p, f = statistics.median(plain), statistics.median(fast)
        out.append({"shape": shape, "states": a.states, "group_size": b.group_size,
                    "plain_cpu_seconds": round(p, 2), "cpu_seconds": round(f, 2),
                    "speedup": round(p / f, 2)})
    return out


def _median(runs: list[dict]) -> dict:
    """One (cloud, workers): the counts (the same every run), the median of each timing,
    and how many runs the medians are of."""
    out = dict(runs[0])
    for k in ("seconds", "states_per_second", "full_states_per_second", "peak_rss_mb",
              "cpu_seconds"):
        values = [r[k] for r in runs if r.get(k) is not None]
        if values:
            out[k] = statistics.median(values)
    for r in runs[1:]:
        assert (r["states"], r["transitions"]) == (out["states"], out["transitions"])
    out["repeat"] = len(runs)
    return out


def table(report: dict) -> str:
    """docs/explore.md's table of one run's JSON."""
    stick = report["yardstick"]
    rate = [stick["before"]["states_per_second"], stick["after"]["states_per_second"]]
    lines = [f"Yardstick (two-phase commit, 288 states): {rate[0]:,} states/s before the clouds, "
             f"{rate[1]:,} after; load average {report['load_average'][0]:.1f} on "
             f"{report['machine'].get('cores', '?')} cores."]
    if report["runs"]:
        lines += ["", "| cloud | workers | states | up to symmetry | seconds | CPU seconds | "
                  "states/s | yardstick ratio | peak memory |",
                  "|---|---|---|---|---|---|---|---|---|"]
    for r in report["runs"]:
        cpu = r.get("cpu_seconds")
        lines.append(f"| {r['cloud']} | {r['workers']} | {r['states']:,} | "
                     f"{r['reduced_states']:,} | {r['seconds']:,} | "
                     f"{'' if cpu is None else f'{cpu:,}'} | {r['states_per_second']:,} | "
                     f"{r['yardstick_ratio']} | {r['peak_rss_mb']:,} MB |")
    if report.get("side_by_side"):
        lines += ["", "| cloud | states | symmetry group | plain search, CPU s | this search, "
                  "CPU s | speedup |", "|---|---|---|---|---|---|"]
        for r in report["side_by_side"]:
            lines.append(f"| {r['shape']} | {r['states']:,} | {r['group_size']} | "
                         f"{r['plain_cpu_seconds']} | {r['cpu_seconds']} | {r['speedup']}x |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="small clouds only (smoke run)")
    ap.add_argument("--clouds", nargs="*", help="shapes HxIxM (default: the three of issue 13)")
    ap.add_argument("--workers", nargs="*", type=int, default=[1, 2])
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs of each (cloud, workers), alternated; the figures are medians")
    ap.add_argument("--side-by-side", action="store_true",
                    help="only the plain search against this one, CPU seconds, small clouds")
    ap.add_argument("--table", metavar="JSON",
                    help="print the Markdown table of an earlier run's JSON (for docs/explore.md)")
    ap.add_argument("--one", nargs=2, metavar=("SHAPE", "WORKERS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.table:
        print(table(json.loads(open(args.table, encoding="utf-8").read())))
        return
    if args.one:
        print(json.dumps(one(args.one[0], int(args.one[1]))))
        return
    from movecheck.conformance.report import machine_info

    if args.side_by_side:
        print(json.dumps({"benchmark": "explore", "machine": machine_info(),
                          "load_average": os.getloadavg(), "yardstick": {
                              "before": yardstick(), "after": yardstick()},
                          "runs": [], "side_by_side": side_by_side()}, indent=2))
        return

    clouds = dict(QUICK) if args.quick else dict(CLOUDS)
    if args.clouds:
        clouds = {c: CLOUDS.get(c, QUICK.get(c, c)) for c in args.clouds}
    before = yardstick()
    samples: dict[tuple[str, int], list[dict]] = {}
    for _ in range(args.repeat):
        for shape in clouds:
            for w in args.workers:
                out = subprocess.run([sys.executable, __file__, "--one", shape, str(w)],
                                     capture_output=True, text=True, check=True,
                                     env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
                samples.setdefault((shape, w), []).append(json.loads(out.stdout))
                print(json.dumps({"shape": shape, **samples[(shape, w)][-1]}), file=sys.stderr)
    runs = [{"cloud": clouds[shape], "shape": shape, **_median(got)}
            for (shape, _), got in samples.items()]
    after = yardstick()
    stick = statistics.mean([before["states_per_second"], after["states_per_second"]])
    for run in runs:
        run["yardstick_ratio"] = round(run["states_per_second"] / stick, 4)
    print(json.dumps({"benchmark": "explore", "machine": machine_info(),
                      "load_average": os.getloadavg(),
                      "yardstick": {"before": before, "after": after},
                      "runs": runs}, indent=2))


if __name__ == "__main__":
    main()
