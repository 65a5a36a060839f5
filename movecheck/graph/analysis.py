"""Graph analyses of a status machine (networkx), reported as text and JSON.

For each machine: statuses not reachable from the initial pseudo-status,
non-terminal statuses with no exit (a migration could be stuck there
forever: the shape of Nova bugs such as 1518200, an evacuation left in
``accepted``), terminal statuses with an exit (terminal must absorb, the
``status_graph`` invariant), strongly connected components (cycles: a
status that can be re-entered), and the longest acyclic path from the
initial status (the most status writes one move can make).
"""

from __future__ import annotations

import networkx as nx

from movecheck.spec.statuses import STATUS_MACHINES

#: Above this many simple paths the longest-path search of a cyclic machine stops.
_PATH_BUDGET = 100_000


def _initial(g: nx.DiGraph) -> list[str]:
    marked = [n for n, d in g.nodes(data=True) if d.get("initial")]
    return marked or [n for n in g.nodes if g.in_degree(n) == 0]


def _longest_from(g: nx.DiGraph, sources: list[str]) -> list[str]:
    if not sources:
        return []
    if nx.is_directed_acyclic_graph(g):
        best: dict[str, list[str]] = {}
        for u in nx.topological_sort(g):
            if u in sources:
                best.setdefault(u, [u])
            if u not in best:
                continue
            for v in g.successors(u):
                cand = best[u] + [v]
                if len(cand) > len(best.get(v, [])):
                    best[v] = cand
        return max(best.values(), key=len, default=[])
    longest: list[str] = list(sources[:1])
    seen = 0
    for s in sources:
        for t in g.nodes:
            if t == s:
                continue
            for p in nx.all_simple_paths(g, s, t):
                seen += 1
                if len(p) > len(longest):
                    longest = p
                if seen > _PATH_BUDGET:
                    return longest
    return longest


def analyse(g: nx.DiGraph, migration_type: str | None = None) -> dict:
    """The analyses of one status machine as a JSON-ready dict."""
    initial = _initial(g)
    reach: set[str] = set()
    for i in initial:
        reach |= nx.descendants(g, i) | {i}
    terminal = [n for n, d in g.nodes(data=True) if d.get("terminal")]
    unreachable = [n for n in g.nodes if n not in reach]
    dead_ends = [n for n in g.nodes if n not in terminal and g.out_degree(n) == 0]
    terminal_exits = [n for n in terminal if g.out_degree(n) > 0]
    def sccs(h):
        out = [sorted(c) for c in nx.strongly_connected_components(h)
               if len(c) > 1 or any(h.has_edge(n, n) for n in c)]
        return sorted(out)

    # Edges marked ``rewrite`` write over a finished status (Nova's Migration.save
    # has no compare-and-swap): the cycles they close are reported apart and are
    # not a fault of the machine.
    own = g.edge_subgraph([(a, b) for a, b, d in g.edges(data=True) if not d.get("rewrite")])
    cycles = sccs(own)
    rewrite_cycles = [c for c in sccs(g) if c not in cycles]
    path = _longest_from(g, initial)  # (a simple path, rewrites included)
    steps = [", ".join(g.edges[a, b].get("steps", ())) for a, b in zip(path, path[1:], strict=False)]
    return {
        "migration_type": migration_type or g.graph.get("migration_type"),
        "statuses": g.number_of_nodes(),
        "edges": g.number_of_edges(),
        "initial": initial,
        "terminal": terminal,
        "unreachable": unreachable,
        "dead_ends": dead_ends,
        "terminal_with_exit": terminal_exits,
        "strongly_connected_components": cycles,
        "rewrite_cycles": rewrite_cycles,
        "longest_acyclic_path": path,
        "longest_acyclic_path_steps": steps,
        "ok": not (unreachable or dead_ends or terminal_exits or cycles),
    }


def analyse_status_machines() -> list[dict]:
    """The analyses of every migration type's status machine."""
    return [analyse(g, t) for t, g in STATUS_MACHINES.items()]


def analysis_text(result: dict) -> list[str]:
    """The analyses of one machine in a few lines for people."""

    def names(xs) -> str:
        return ", ".join(xs) if xs else "none"

    sccs = result["strongly_connected_components"]
    rewrite_cycles = result.get("rewrite_cycles", [])
    path = result["longest_acyclic_path"]
    return [
        f"{result['migration_type']}: {result['statuses']} statuses (with ∅), "
        f"{result['edges']} edges",
        f"  unreachable statuses: {names(result['unreachable'])}",
        f"  non-terminal statuses with no exit: {names(result['dead_ends'])}",
        f"  terminal statuses with an exit: {names(result['terminal_with_exit'])}",
        f"  cycles (strongly connected components): "
        f"{'; '.join('{' + ', '.join(c) + '}' for c in sccs) if sccs else 'none'}",
        f"  cycles through rewrites of a finished status: "
        f"{'; '.join('{' + ', '.join(c) + '}' for c in rewrite_cycles) if rewrite_cycles else 'none'}",
        f"  longest acyclic path ({max(len(path) - 1, 0)} steps): {' -> '.join(path)}",
    ]
