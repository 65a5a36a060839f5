"""``movecheck prove``: every invariant by induction, bounded and parametric, plus vacuity."""

from __future__ import annotations

import sys

from movecheck.cli import (
    add_cloud_arguments,
    add_solver_timeout,
    check_solver_timeout,
    cloud_from_args,
)

HELP = "prove every invariant by induction (free capacities and sizes), bounded and parametrically"


def add_arguments(p) -> None:
    add_cloud_arguments(p)
    p.add_argument("--spec-mutant", metavar="NAME",
                   help="check a deliberately broken spec instead (docs/proofs.md lists them)")
    add_solver_timeout(p)
    p.add_argument("--smt2", metavar="DIR", help="also write every obligation in SMT-LIB 2 here")
    p.add_argument("--no-parametric", action="store_true", help="skip the parametric proof")
    p.add_argument("--no-vacuity", action="store_true", help="skip the vacuity/reachability checks")
    p.add_argument("--cti-depth", type=int, default=6, metavar="K",
                   help="BMC depth for telling whether a counterexample's pre-state is reachable")


def run(args):
    from rich.table import Table

    from movecheck.conformance.counterexample import report_console
    from movecheck.spec.engines.parametric import prove_parametric
    from movecheck.spec.engines.prove import PROVED, prove_all
    from movecheck.spec.engines.prove_report import cti_lines, mark_reachability
    from movecheck.spec.engines.vacuity import vacuity
    from movecheck.spec.errors import InputError

    check_solver_timeout(args)
    if args.cti_depth < 0:
        raise InputError("--cti-depth must be 0 or more")
    cloud = cloud_from_args(args)
    from movecheck.spec.engines.spec_mutants import spec_class

    sym_cls = spec_class(args.spec_mutant)
    out = report_console()
    smt2 = args.smt2
    bounded = prove_all(cloud, timeout=args.solver_timeout, sym_cls=sym_cls,
                        smt2_dir=None if smt2 is None else f"{smt2}/bounded")
    parametric = [] if args.no_parametric else prove_parametric(
        cloud, timeout=args.solver_timeout, sym_cls=sym_cls,
        smt2_dir=None if smt2 is None else f"{smt2}/parametric")
    par = {r.name: r for r in parametric}
    table = Table(title=f"prove: {len(cloud.hosts)} hosts x {len(cloud.instances)} instances, "
                        "capacities and flavor sizes free")
    for col in ("invariant", "kind", "bounded", "s", "parametric", "s"):
        table.add_column(col)
    names = [r.name for r in bounded] + [n for n in par if n not in {r.name for r in bounded}]
    byname = {r.name: r for r in bounded}

    def cell(r):
        if r is None:
            return "-", ""
        color = {"proved": "green", "counterexample": "red"}.get(r.status, "yellow")
        return f"[{color}]{r.status}[/]", f"{r.seconds:.2f}"

    for n in names:
        b, p = byname.get(n), par.get(n)
        kind = (b or p).kind
        table.add_row(n, kind, *cell(b), *cell(p))
    out.print(table)
    ctis = []
    for label, results in (("bounded", bounded), ("parametric", parametric)):
        for r in results:
            if r.cti is None:
                continue
            cti = r.cti
            if label == "bounded":
                mark_reachability(cti, args.cti_depth, sym_cls)
            ctis.append({"proof": label, **cti.to_json()})
            out.print(f"[bold red]{label}: {r.name} is not inductive[/] "
                      f"(counterexample to induction at {cti.step.kind}):")
            for line in cti_lines(cti):
                out.print("  " + line)
    witnesses, vac_seconds = ([], 0.0) if args.no_vacuity else vacuity(cloud)
    missing = [w for w in witnesses if not w.found]
    if witnesses:
        out.print(f"vacuity: {len(witnesses) - len(missing)} of {len(witnesses)} steps, statuses "
                  f"and invariant premises reached ({vac_seconds:.1f} s)"
                  + ("" if not missing else ": [red]not reached: "
                     + ", ".join(f"{w.kind} {w.name}" for w in missing) + "[/]"))
    sys.stdout.flush()
    ok = (all(r.status == PROVED for r in bounded) and all(r.status == PROVED for r in parametric)
          and not missing)
    fields = {
        "invariants": [_row(r) for r in bounded],
        "parametric": [_row(r) for r in parametric],
        "counterexamples": ctis,
        "vacuity": [w.to_json() for w in witnesses],
        "cloud": cloud.to_json(),
    }
    if smt2:
        fields["smt2"] = smt2
    return (0 if ok else 1), fields


def _row(r):
    return {
        "name": r.name, "kind": r.kind, "status": r.status, "seconds": round(r.seconds, 3),
        "obligations": [{"step": o.step, "status": o.status, "seconds": round(o.seconds, 4)}
                        for o in r.obligations if o.status != "proved"],
    }
