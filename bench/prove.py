"""Benchmark of the proofs (issue 3, "Performance"): prints one JSON object.

- ``scaling``: seconds to prove every invariant by induction for H = N = 2..MAX
  (default 10; ``--max N`` to stop earlier), with the solver's share;
- ``parametric``: seconds of the parametric proof (cutoff cloud);
- ``bmc``: the depth BMC reaches in ``--bmc-budget`` seconds (default 60) on the
  default cloud, with no violation.

Targets on a 2-core machine: 3x3 < 2 s, 8x8 < 30 s, parametric < 5 s.
Run: ``python bench/prove.py [--max N] [--bmc-budget S]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time


def main() -> None:
    from movecheck import __version__
    from movecheck.spec import default_cloud
    from movecheck.spec.engines.bmc import bmc
    from movecheck.spec.engines.parametric import prove_parametric
    from movecheck.spec.engines.prove import PROVED, prove_all

    ap = argparse.ArgumentParser()
    ap.add_argument("--max", type=int, default=10)
    ap.add_argument("--bmc-budget", type=float, default=60.0)
    args = ap.parse_args()
    scaling = []
    for n in range(2, args.max + 1):
        t0 = time.perf_counter()
        res = prove_all(default_cloud(n, n), timeout=120)
        secs = time.perf_counter() - t0
        scaling.append({"hosts": n, "instances": n, "seconds": round(secs, 2),
                        "solver_seconds": round(sum(r.seconds for r in res), 2),
                        "obligations": sum(len(r.obligations) for r in res),
                        "all_proved": all(r.status == PROVED for r in res)})
        print(json.dumps(scaling[-1]), file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    par = prove_parametric(default_cloud(), timeout=120)
    par_secs = time.perf_counter() - t0
    clean = []  # depths proved violation-free, with the time they finished

    def progress(k, secs):
        clean.append((k, secs))

    r = bmc(default_cloud(), 100, budget=args.bmc_budget, progress=progress)
    within = max((k for k, secs in clean if secs <= args.bmc_budget), default=0)
    print(json.dumps({
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(), "movecheck": __version__},
        "scaling": scaling,
        "parametric": {"seconds": round(par_secs, 2),
                       "all_proved": all(x.status == PROVED for x in par)},
        "bmc": {"cloud": "default (2 hosts x 2 instances)", "budget_seconds": args.bmc_budget,
                "depth_reached": within, "violation": r.invariant,
                "note": "every trace of up to depth_reached steps checked within the budget"},
    }, indent=2))


if __name__ == "__main__":
    main()
