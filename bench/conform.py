"""Benchmark of the conformance driver (issue 5, "Performance"); prints JSON.

- conformance steps/s against the reference tracker (default settings,
  generated clouds and the pinned default cloud) with the share of time spent
  inside the tracker, and against the spec itself as the tracker (the
  driver's own cost); in the same run the steps/s of a bare Hypothesis state
  machine with one trivial rule (Hypothesis's own ceiling); the ratio
  (target >= 0.5) and the cost of generated clouds (target <= 10 %);
- times are CPU seconds of this process (``time.process_time``): the machine
  is shared, and wall-clock time counts the other jobs too;
- the jsonl example tracker's steps/s (node subprocess);
- the bug catalogue (``movecheck mutants``, default settings): the median
  time to the first failure (apart from shrinking), the time to catch every
  bug and the median / maximum shrunk counterexample length (target median
  <= 5 steps).

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


def _bare(examples: int, steps: int) -> float:
    """steps/s (CPU) of a state machine whose one rule does nothing."""
    from hypothesis import HealthCheck, Phase, Verbosity, settings
    from hypothesis import seed as hseed
    from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

    count = [0]

    class Bare(RuleBasedStateMachine):
        @rule()
        def step(self):
            count[0] += 1

    conf = settings(max_examples=examples, stateful_step_count=steps, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet,
                    phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink))
    t0 = time.process_time()
    run_state_machine_as_test(hseed(1)(Bare), settings=conf)
    return count[0] / (time.process_time() - t0)


def _rate(factory, cloud, args, seed, tracker=None):
    """(steps/s in CPU time, the run) of one conformance run."""
    from movecheck.conformance.driver import run_conformance

    t0 = time.process_time()
    r = run_conformance(factory, cloud, examples=args.examples, steps=args.steps, seed=seed,
                        tracker=tracker)
    return r.steps / (time.process_time() - t0), r


class _Timed:
    """Wraps a tracker and adds up the seconds spent inside it."""

    def __init__(self, inner):
        self.inner, self.seconds = inner, 0.0  # CPU seconds, as the rates are
        self.capabilities = inner.capabilities

    def _t(self, fn, *a):
        t0 = time.process_time()
        try:
            return fn(*a)
        finally:
            self.seconds += time.process_time() - t0

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
    rows = []
    for k in range(args.repeat):
        seed = args.seed + k
        trivial = _bare(args.examples, args.steps)
        timed = _Timed(resolve_tracker("reference")())
        t0 = time.process_time()
        generated, r = _rate(None, None, args, seed, tracker=timed)
        share = timed.seconds / (time.process_time() - t0)
        pinned, _ = _rate(None, cloud, args, seed, tracker=resolve_tracker("reference")())
        spec_rate, _ = _rate(SpecTracker, None, args, seed)
        rows.append((trivial, generated, pinned, spec_rate, share))
    trivial = median(r[0] for r in rows)
    conf = median(r[1] for r in rows)
    pinned = median(r[2] for r in rows)
    driver_only = median(r[3] for r in rows)
    share = median(r[4] for r in rows)
    example = Path(__file__).resolve().parent.parent / "conformance" / "examples" / "tracker.js"
    jsonl = run_conformance(resolve_tracker(f"jsonl:node {example}", timeout=10), cloud,
                            examples=args.examples, steps=args.steps, seed=args.seed)
    out = {
        "machine": {"cores": os.cpu_count(), "python": sys.version.split()[0],
                    "platform": platform.platform(), "hypothesis": _version("hypothesis")},
        "settings": {"examples": args.examples, "steps": args.steps, "repeat": args.repeat,
                     "seed": args.seed, "clouds": "generated (docs/conformance.md)",
                     "time": "CPU seconds of this process"},
        "conformance_steps_per_second": round(conf),
        "conformance_pinned_default_cloud_steps_per_second": round(pinned),
        "generated_clouds_cost": round(1 - conf / pinned, 3),
        "generated_clouds_cost_target": 0.10,
        "bare_trivial_steps_per_second": round(trivial),
        "ratio_vs_trivial": round(conf / trivial, 3),
        "ratio_target": 0.5,
        "reference_tracker_share_of_time": round(share, 3),
        "spec_as_tracker_steps_per_second": round(driver_only),
        "ratio_spec_as_tracker_vs_trivial": round(driver_only / trivial, 3),
        "jsonl_node_steps_per_second_pinned_cloud": round(jsonl.steps_per_second),
        "jsonl_node_conformant_pinned_cloud": jsonl.ok,
    }
    try:
        t0 = time.perf_counter()
        results, ref = run_mutants(None, seed=args.seed)
        total = time.perf_counter() - t0
        lengths = [len(r.result.discrepancy.trace) for r in results if r.caught]
        out["catalogue"] = {
            "mutants": len(results),
            "caught": sum(r.caught for r in results),
            "seconds_to_catch_all": round(sum(r.result.seconds for r in results), 2),
            "seconds_total_with_reference": round(total, 2),
            "median_shrunk_length": statistics.median(lengths) if lengths else None,
            "median_seconds_to_first_failure": statistics.median(
                r.result.first_failure_seconds for r in results if r.caught) if lengths else None,
            "max_shrunk_length": max(lengths) if lengths else None,
            "reference_passes": ref is not None and ref.ok,
            "per_mutant": {r.mutant.name: {"caught": r.caught, "seconds": round(r.result.seconds, 2),
                                           "first_failure_seconds": r.result.first_failure_seconds,
                                           "shrunk_length": len(r.result.discrepancy.trace)
                                           if r.caught else None} for r in results},
            "targets": {"median_shrunk_length": 5},
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
