"""Graph analyses of status machines (issue 6): planted faults are found."""

import networkx as nx
import pytest

from movecheck.graph.analysis import analyse, analyse_status_machines, analysis_text
from movecheck.spec.statuses import NEW, STATUS_MACHINES


def machine(edges, terminal):
    """A hand-made status machine in the shape of spec/statuses.py."""
    g = nx.DiGraph(migration_type="planted")
    for a, b in edges:
        for n in (a, b):
            g.add_node(n, initial=n == NEW, terminal=n in terminal)
        g.add_edge(a, b, steps=(f"{a}_{b}",), failure=False)
    return g


def test_planted_unreachable_status_is_found():
    g = machine([(NEW, "a"), ("a", "done"), ("orphan", "done")], terminal={"done"})
    result = analyse(g)
    assert result["unreachable"] == ["orphan"]
    assert result["dead_ends"] == []
    assert not result["ok"]


def test_planted_dead_end_is_found():
    g = machine([(NEW, "a"), ("a", "done"), ("a", "stuck")], terminal={"done"})
    result = analyse(g)
    assert result["dead_ends"] == ["stuck"]
    assert result["unreachable"] == []
    assert "non-terminal statuses with no exit: stuck" in "\n".join(analysis_text(result))


def test_planted_cycle_and_terminal_exit_are_found():
    g = machine([(NEW, "a"), ("a", "b"), ("b", "a"), ("b", "done"), ("done", "a")],
                terminal={"done"})
    result = analyse(g)
    assert result["strongly_connected_components"] == [["a", "b", "done"]]
    assert result["terminal_with_exit"] == ["done"]
    # the longest acyclic path of a cyclic machine is still a simple path
    assert result["longest_acyclic_path"] == [NEW, "a", "b", "done"]


def test_longest_path_of_a_dag_starts_at_the_initial_status():
    g = machine([(NEW, "a"), ("a", "b"), ("b", "c"), ("x", "y"), ("y", "z"), ("z", "w"),
                 ("w", "v")], terminal={"c", "v"})
    result = analyse(g)
    assert result["longest_acyclic_path"] == [NEW, "a", "b", "c"]
    assert result["unreachable"] == ["x", "y", "z", "w", "v"]


@pytest.mark.parametrize("mtype,length,path_end", [
    ("resize", 7, "failed"), ("migration", 7, "failed"), ("live-migration", 5, "cancelled"),
    ("evacuation", 4, "done"),
])
def test_spec_status_machines_are_clean_and_longest_paths_pinned(mtype, length, path_end):
    result = analyse(STATUS_MACHINES[mtype], mtype)
    assert result["ok"], result
    assert len(result["longest_acyclic_path"]) - 1 == length
    assert result["longest_acyclic_path"][0] == NEW
    assert result["longest_acyclic_path"][-1] == path_end
    assert len(result["longest_acyclic_path_steps"]) == length


def test_analyse_status_machines_covers_every_type():
    assert [a["migration_type"] for a in analyse_status_machines()] == list(STATUS_MACHINES)
