"""The state-space picture: sizes pinned, summarised above the limit, details per node."""

from movecheck.graph.layout import layout
from movecheck.graph.pictures import write_space
from movecheck.graph.space import space_drawing
from movecheck.graph.svg import to_svg
from movecheck.spec import default_cloud


def test_tiny_cloud_is_drawn_state_by_state():
    s = space_drawing(default_cloud(1, 1, 1), max_nodes=100)
    assert (s.states, s.transitions, s.abstraction, s.nodes) == (50, 137, "state", 50)
    assert s.drawing.nodes[0].double  # the initial state is marked
    assert s.drawing.nodes[0].label.startswith("s0\ni1: not booted")


def test_above_the_limit_the_space_is_summarised_by_phase():
    s = space_drawing(default_cloud(1, 1, 1), max_nodes=40)
    assert (s.abstraction, s.nodes, s.left_out) == ("phase", 10, 0)
    labels = [n.label.split("\n")[0] for n in s.drawing.nodes]
    assert labels[:2] == ["i1: not booted", "i1: active"]
    assert "i1: resize: reverting" in labels
    assert any("abstraction: phase (10 classes of 50 states" in n for n in s.drawing.notes)


def test_default_space_cloud_pins_states_and_classes():
    s = space_drawing(default_cloud(2, 1, 1), max_nodes=40)
    assert (s.states, s.abstraction, s.nodes, s.edges) == (1068, "phase", 23, 68)
    legend = [e.text for e in s.drawing.legend]
    assert legend == ["initial state", "no move in progress", "resize in progress",
                      "cold-migrate in progress", "live in progress", "evacuate in progress"]


def test_coarsest_abstraction_keeps_the_biggest_classes_and_says_so():
    s = space_drawing(default_cloud(2, 1, 1), max_nodes=3)
    assert s.abstraction == "move" and s.nodes == 3 and s.left_out == 4
    assert any("4 smaller classes are left out" in n for n in s.drawing.notes)


def test_max_states_bounds_the_search_and_the_title_says_incomplete():
    s = space_drawing(default_cloud(2, 2, 2), max_nodes=40, max_states=500)
    assert not s.complete and s.states <= 600
    assert "incomplete" in s.drawing.title


def test_node_details_give_usage_and_enabled_steps():
    s = space_drawing(default_cloud(1, 1, 1), max_nodes=100)
    first = s.details["c0"]["lines"]
    assert "host h1 up: usage 0/0/0 of 4/1536/40 (VCPU/MEMORY_MB/DISK_GB)" in first
    assert "  boot(instance=i1, host=h1, flavor=small)" in first
    assert any(line.startswith("enabled steps (") for line in first)
    svg = to_svg(layout(s.drawing))
    assert svg.count('class="node"') == 50


def test_space_html_has_details_for_every_node(tmp_path):
    paths, s = write_space(default_cloud(1, 1, 1), tmp_path, ("html", "mermaid"),
                           renderer="builtin")
    html = (tmp_path / "space.html").read_text(encoding="utf-8")
    assert {p.name for p in paths} == {"space.mmd", "space.html"}
    for node in s.drawing.nodes:
        assert f'data-key="{node.id}"' in html
        assert f'"{node.id}": {{' in html


def test_space_html_scales_its_picture_to_the_window(tmp_path):
    # a flex item does not shrink below its content without min-width: 0, so a
    # wide state space used to push the side panel out of the window
    write_space(default_cloud(1, 1, 1), tmp_path, ("html",), renderer="builtin")
    css = (tmp_path / "space.html").read_text(encoding="utf-8").split("<style>")[1].split("</style>")[0]
    pictures = css.split("#pictures{")[1].split("}")[0]
    assert "min-width:0" in pictures and "flex:1" in pictures
    assert "#pictures svg{max-width:100%;height:auto}" in css
