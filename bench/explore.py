"""Benchmark of exhaustive exploration (issue 2): prints JSON.

Distinct states, transitions, seconds and states/s for the default cloud and
for 3 hosts x 2 instances (1 migration), every invariant and two-state property checked on
every state and transition (as `movecheck explore` does).  Repeats each cloud
`--repeat` times and reports the median.

    python bench/explore.py [--repeat 3] [--quick]
"""

import argparse
import json
import statistics

from movecheck.conformance.report import machine_info
from movecheck.spec import Spec, default_cloud
from movecheck.spec.engines.explore import explore


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="small clouds only (smoke run)")
    args = ap.parse_args()
    # 3 hosts x 2 instances with 2 migrations has several million states (more
    # than 3 GB and 8 minutes before we stopped it); with 1 migration, 126,368.
    shapes = [("default (2 hosts x 2 instances, 2 migrations)", (2, 2, 2)),
              ("3 hosts x 2 instances, 1 migration", (3, 2, 1))]
    if args.quick:
        shapes = [("2 hosts x 1 instance, 2 migrations", (2, 1, 2))]
    runs = []
    for label, shape in shapes:
        seconds = []
        for _ in range(args.repeat):
            r, _ = explore(Spec(default_cloud(*shape)))
            seconds.append(r.seconds)
        med = statistics.median(seconds)
        runs.append({
            "cloud": label, "hosts": shape[0], "instances": shape[1], "max_migrations": shape[2],
            "states": r.states, "transitions": r.transitions, "depth": r.depth,
            "violations": len(r.violations), "seconds_median": round(med, 2),
            "seconds_all": [round(s, 2) for s in seconds],
            "states_per_second": round(r.states / med),
        })
    print(json.dumps({"benchmark": "explore", "machine": machine_info(), "runs": runs}, indent=2))


if __name__ == "__main__":
    main()
