"""Benchmark of conformance against the real Placement (issue 7): prints JSON.

1. Runs ``movecheck conform --tracker placement`` in-process on the default
   cloud (Hypothesis driver, spec oracle, checker, adapter), recording every
   REST request the adapter sends and every database reset.
2. In the same process, replays exactly those requests (and resets) straight
   into Placement's WSGI app, with no movecheck code in between: the raw rate
   of the same HTTP calls.
3. Reports conformance steps/s, the raw requests/s and allocation writes/s,
   and movecheck's overhead as a ratio (target: <= 0.25): ``overhead_ratio`` is
   the time spent outside Placement during the conformance run over the time
   spent inside it (database resets included), the same requests timed in the
   same run; ``overhead_ratio_vs_replay`` compares the run's wall time with
   the replay's, which also counts load changes between the two phases.

    python bench/placement.py [--examples 50] [--steps 30] [--seed 1] [--quick]
"""

import argparse
import json
import os
import sys
import time

# Run as a script, this file's folder is sys.path[0], and this file's name would
# shadow the real ``placement`` package that the adapter imports.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

from movecheck.conformance.adapters.placement import placement_factory  # noqa: E402
from movecheck.conformance.driver import run_conformance  # noqa: E402
from movecheck.conformance.report import machine_info  # noqa: E402
from movecheck.spec import default_cloud  # noqa: E402

RESET = object()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=50)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="5 examples (smoke run)")
    args = ap.parse_args()
    examples = 5 if args.quick else args.examples

    t0 = time.perf_counter()
    tracker = placement_factory()
    startup = time.perf_counter() - t0
    service = tracker.service
    recorded: list = []
    real_call, real_reset = service.call, service.reset

    def call(method, path, body=None, microversion="1.28"):
        status, data = real_call(method, path, body, microversion)
        recorded.append((method, path, body, microversion, status))
        return status, data

    reset_seconds = [0.0]

    def reset():
        recorded.append(RESET)
        t = time.perf_counter()
        real_reset()
        reset_seconds[0] += time.perf_counter() - t

    service.call, service.reset = call, reset
    service.seconds = 0.0
    result = run_conformance(lambda: tracker, default_cloud(), examples=examples,
                             steps=args.steps, seed=args.seed, label="placement")
    conform_seconds = result.seconds
    placement_seconds_in_run = service.seconds + reset_seconds[0]
    service.call, service.reset = real_call, real_reset

    # Replay: the same requests and resets, straight into the WSGI app.
    requests = [r for r in recorded if r is not RESET]
    resets = len(recorded) - len(requests)
    mismatches = 0
    write_seconds = 0.0
    t0 = time.perf_counter()
    for r in recorded:
        if r is RESET:
            real_reset()
            continue
        method, path, body, mv, status = r
        t1 = time.perf_counter()
        got, _ = real_call(method, path, body, mv)
        if path.startswith("/allocations") and method != "GET":
            write_seconds += time.perf_counter() - t1
        mismatches += got != status
    raw_seconds = time.perf_counter() - t0
    writes = sum(1 for m, p, *_ in requests if p.startswith("/allocations") and m != "GET")

    print(json.dumps({
        "benchmark": "placement",
        "machine": machine_info(),
        "cloud": "default (2 hosts x 2 instances, 2 migrations)",
        "seed": args.seed,
        "placement_startup_seconds": round(startup, 2),
        "conformance": {
            "examples": result.examples, "steps": result.steps,
            "discrepancy": None if result.discrepancy is None else str(result.discrepancy),
            "seconds": round(conform_seconds, 2),
            "steps_per_second": round(result.steps / conform_seconds, 1),
            "requests": len(requests), "database_resets": resets,
            "seconds_inside_placement": round(placement_seconds_in_run, 2),
            "seconds_in_movecheck": round(conform_seconds - placement_seconds_in_run, 2),
        },
        "raw_replay": {
            "requests": len(requests), "allocation_writes": writes, "database_resets": resets,
            "seconds": round(raw_seconds, 2),
            "requests_per_second": round(len(requests) / raw_seconds, 1),
            "allocation_writes_seconds": round(write_seconds, 2),
            "allocation_writes_per_second": round(writes / write_seconds, 1),
            "status_mismatches": mismatches,
        },
        # Same requests, same run: movecheck's own time over Placement's own time.
        # Immune to load changing between the run and the replay (2 shared cores).
        "overhead_ratio": round((conform_seconds - placement_seconds_in_run)
                                / placement_seconds_in_run, 3),
        # The conformance run's wall time over the replay's (noisier: two phases).
        "overhead_ratio_vs_replay": round(conform_seconds / raw_seconds - 1, 3),
        "overhead_target": 0.25,
    }, indent=2))


if __name__ == "__main__":
    main()
