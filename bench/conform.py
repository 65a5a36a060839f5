"""Benchmark of the conformance driver (issue 5, "Performance"); prints JSON.

- conformance steps/s against the reference tracker (default cloud, default
  settings) with the share of time spent inside the tracker, and against
  the spec itself as the tracker (the driver's own cost); in the same run
  the steps/s of a bare Hypothesis state machine with trivial rules
  (Hypothesis's own ceiling) and of one with the driver's draws but no work; the ratio (target >= 0.5);
- the jsonl example tracker's steps/s (node subprocess);
- the bug catalogue: time to catch every bug with default settings (target
  < 60 s in total) and the median / maximum shrunk counterexample length
  (target median <= 8 steps).

Run: ``python bench/conform.py [--examples N] [--repeat R]``.  Not a test.
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


def _bare(examples: int, steps: int, same_draws: bool) -> float:
    """steps/s of a state machine whose rule does nothing."""
    from hypothesis import HealthCheck, Phase, Verbosity, settings
    from hypothesis import seed as hseed
    from hypothesis import strategies as st
    from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test

    count = [0]

    if same_draws:
        class Bare(RuleBasedStateMachine):
            @initialize(swarm=st.frozensets(st.sampled_from(tuple("abcdefghijk"))))
            def start(self, swarm):
                pass

            @rule(x=st.integers(0, 2**23 - 1))
            def step(self, x):
                count[0] += 1
    else:
        class Bare(RuleBasedStateMachine):
            @rule()
            def step(self):
                count[0] += 1

    conf = settings(max_examples=examples, stateful_step_count=steps, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet,
                    phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink))
    t0 = time.perf_counter()
    run_state_machine_as_test(hseed(1)(Bare), settings=conf)
    return count[0] / (time.perf_counter() - t0)


class _Timed:
    """Wraps a tracker and adds up the seconds spent inside it."""

    def __init__(self, inner):
        self.inner, self.seconds = inner, 0.0
        self.capabilities = inner.capabilities

    def _t(self, fn, *a):
        t0 = time.perf_counter()
        try:
            return fn(*a)
        finally:
            self.seconds += time.perf_counter() - t0

    def reset(self, cloud):
        return self._t(self.inner.reset, cloud)

    def apply(self, step):
        return self._t(self.inner.apply, step)

    def observe(self):
        return self._t(self.inner.observe)

    def close(self):
        self.inner.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=200)
    ap.add_argument("--steps", type=int, default=15)
    ap.add_argument("--repeat", type=int, default=3, help="median of R runs (noise)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from movecheck.conformance.adapters import resolve_tracker
    from movecheck.conformance.adapters.spec import SpecTracker
    from movecheck.conformance.driver import run_conformance
    from movecheck.conformance.mutants import run_mutants
    from movecheck.spec.cloudfile import default_cloud

    cloud = default_cloud()
    median = statistics.median  # of R runs, side by side: the machine is shared and noisy
    runs = []
    for k in range(args.repeat):
        timed = _Timed(resolve_tracker("reference")())
        r = run_conformance(None, cloud, examples=args.examples, steps=args.steps,
                            seed=args.seed + k, tracker=timed)
        runs.append((r.steps_per_second, timed.seconds / r.seconds))
    conf = statistics.median(r[0] for r in runs)
    share = statistics.median(r[1] for r in runs)
    driver_only = median([run_conformance(SpecTracker, cloud, examples=args.examples,
                                        steps=args.steps, seed=args.seed + k).steps_per_second
                        for k in range(args.repeat)])
    trivial = median([_bare(args.examples, args.steps, False) for _ in range(args.repeat)])
    same = median([_bare(args.examples, args.steps, True) for _ in range(args.repeat)])
    example = Path(__file__).resolve().parent.parent / "conformance" / "examples" / "tracker.js"
    jsonl = run_conformance(resolve_tracker(f"jsonl:node {example}", timeout=10), cloud,
                            examples=args.examples, steps=args.steps, seed=args.seed)
    out = {
        "machine": {"cores": os.cpu_count(), "python": sys.version.split()[0],
                    "platform": platform.platform(), "hypothesis": _version("hypothesis")},
        "settings": {"examples": args.examples, "steps": args.steps, "repeat": args.repeat,
                     "seed": args.seed, "cloud": "default (2 hosts, 2 instances, 2 migrations)"},
        "conformance_steps_per_second": round(conf),
        "bare_trivial_steps_per_second": round(trivial),
        "bare_same_draws_steps_per_second": round(same),
        "ratio_vs_trivial": round(conf / trivial, 3),
        "reference_tracker_share_of_time": round(share, 3),
        "spec_as_tracker_steps_per_second": round(driver_only),
        "ratio_spec_as_tracker_vs_trivial": round(driver_only / trivial, 3),
        "ratio_vs_same_draws": round(conf / same, 3),
        "ratio_target": 0.5,
        "jsonl_node_steps_per_second": round(jsonl.steps_per_second),
        "jsonl_node_conformant": jsonl.ok,
    }
    try:
        t0 = time.perf_counter()
        results, ref = run_mutants(cloud, seed=args.seed)
        total = time.perf_counter() - t0
        lengths = [len(r.result.discrepancy.trace) for r in results if r.caught]
        out["catalogue"] = {
            "mutants": len(results),
            "caught": sum(r.caught for r in results),
            "seconds_to_catch_all": round(sum(r.result.seconds for r in results), 2),
            "seconds_total_with_reference": round(total, 2),
            "median_shrunk_length": statistics.median(lengths) if lengths else None,
            "max_shrunk_length": max(lengths) if lengths else None,
            "reference_passes": ref is not None and ref.ok,
            "per_mutant": {r.mutant.name: {"caught": r.caught, "seconds": round(r.result.seconds, 2),
                                           "shrunk_length": len(r.result.discrepancy.trace)
                                           if r.caught else None} for r in results},
            "targets": {"seconds_to_catch_all": 60, "median_shrunk_length": 8},
        }
    except Exception as e:  # noqa: BLE001 - the catalogue may not be built yet
        out["catalogue"] = {"error": f"{type(e).__name__}: {e}"}
    print(json.dumps(out, indent=2))
    return 0


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


if __name__ == "__main__":
    sys.exit(main())
