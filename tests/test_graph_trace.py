"""Counterexample pictures: every accepted report shape, replay, highlighting."""

import json

import pytest

from movecheck.graph.pictures import write_trace
from movecheck.graph.scene import Text
from movecheck.graph.trace import build_view, find_trace, parse_trace
from movecheck.spec import default_cloud
from movecheck.spec.errors import InputError

TRACE = [
    {"step": "boot", "instance": "i1", "host": "h1", "flavor": "large", "picks": ["pci0"],
     "expected": "accepted"},
    {"step": "resize_claim", "migration": "m1", "instance": "i1", "dest": "h2", "flavor": "large"},
    {"step": "resize_migrate", "migration": "m1"},
    {"step": "confirm", "migration": "m1"},  # rejected: m1 is not finished
    {"step": "resize_migrated", "migration": "m1"},
]


def report(**fields):
    return {"command": "conform", "ok": False, "seconds": 0.1, "movecheck_version": "0.1.0",
            **fields}


@pytest.mark.parametrize("fields,where", [
    ({"violation": {"invariant": "capacity", "trace": TRACE}}, "violation"),
    ({"discrepancy": {"trace": TRACE, "step_index": 2}}, "discrepancy"),
    ({"divergence": {"trace": TRACE, "step_index": 0}}, "divergence"),
    ({"counterexample": {"trace": TRACE}}, "counterexample"),
    ({"counterexamples": [{"name": "x"}, {"trace": TRACE}]}, "counterexamples[1]"),
    ({"counterexamples": {"bug1": {"trace": TRACE}}}, "counterexamples.bug1"),
    ({"invariants": [{"name": "capacity", "status": "counterexample",
                      "counterexample": {"trace": TRACE}}]}, "invariants[0].counterexample"),
    ({"mutants": [{"name": "ok", "caught": False, "counterexample": None},
                  {"name": "lp1707071", "caught": True, "counterexample": TRACE}]},
     "mutants[1].counterexample"),
])
def test_every_documented_report_shape_is_found(fields, where):
    found = find_trace(report(**fields))
    assert found.where == where and found.trace == TRACE


def test_a_report_without_a_trace_is_one_sentence():
    with pytest.raises(InputError, match="the conform report holds no counterexample trace"):
        find_trace(report(discrepancy=None))


def test_bad_steps_name_their_position():
    with pytest.raises(InputError, match="trace step 2: unknown step 'teleport'"):
        parse_trace([TRACE[0], {"step": "teleport"}])
    with pytest.raises(InputError, match="trace step 1: picks must be a list"):
        parse_trace([{**TRACE[0], "picks": "pci0"}])


def test_replay_marks_rejections_and_the_diverging_step():
    view = build_view(report(discrepancy={"trace": TRACE, "step_index": 4, "observed": {
        "usage": {"h1": {"VCPU": 9, "MEMORY_MB": 1024, "DISK_GB": 20},
                  "h2": {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 10}}}}), default_cloud())
    assert view.diverging == 4
    assert [r.rejected is None for r in view.rows] == [True, True, True, False, True]
    assert "migration m1 is migrating" in view.table[3][2]
    assert view.rows[4].transitions == [("m1", "migration", "migrating", "post-migrating")]
    # per-host usage against capacity; the tracker's over-capacity VCPU is flagged
    assert view.table[4][3] == ("2/1024/20 of 4/1536/40; tracker: 9/1024/20 OVER CAPACITY")
    assert view.over == {(4, 3)}


def test_the_reports_cloud_is_used_when_present():
    cloud = default_cloud(3, 1, 1)
    view = build_view(report(violation={"trace": TRACE[:1]}, cloud=cloud.to_json()),
                      default_cloud())
    assert view.header[3:6] == ["h1 usage (VCPU/MEMORY_MB/DISK_GB)",
                                "h2 usage (VCPU/MEMORY_MB/DISK_GB)",
                                "h3 usage (VCPU/MEMORY_MB/DISK_GB)"]


def test_step_index_outside_the_trace_is_one_sentence():
    with pytest.raises(InputError, match="step_index 7 is outside the trace of 5 steps"):
        build_view(report(discrepancy={"trace": TRACE, "step_index": 7}), default_cloud())


def test_trace_files_highlight_the_path_and_the_diverging_edge(tmp_path):
    rep = report(discrepancy={"trace": TRACE, "step_index": 4, "message": "usage differs"})
    paths, view = write_trace(rep, default_cloud(), tmp_path, ("svg", "html", "mermaid"),
                              "builtin")
    names = {p.name for p in paths}
    assert names == {"trace-m1.svg", "trace-m1.mmd", "trace-table.svg", "trace.html"}
    svg = (tmp_path / "trace-m1.svg").read_text(encoding="utf-8")
    assert "#2 resize_claim" in svg and "#3 resize_migrate" in svg
    assert "#5 resize_migrated" in svg
    # the diverging edge is drawn in the failure colour, the others in the path colour
    assert '<g class="edge" data-key="m1:migrating&gt;post-migrating">' in svg
    hot = svg.split('data-key="m1:migrating&gt;post-migrating">')[1].split("</g>")[0]
    assert 'stroke="#c0392b"' in hot
    table = (tmp_path / "trace-table.svg").read_text(encoding="utf-8")
    assert "diverging step: #5" in table and "message: usage differs" in table
    html = (tmp_path / "trace.html").read_text(encoding="utf-8")
    steps = json.loads(html.split('<script type="application/json" id="steps">')[1]
                       .split("</script>")[0])
    assert len(steps) == 5
    assert steps[4]["keys"] == ["m1:migrating>post-migrating", "m1:post-migrating"]
    assert "THIS IS THE DIVERGING STEP" in steps[4]["lines"]
    assert 'id="row-4" class="diverging"' in html
    assert "http" not in html


def test_a_bad_cloud_in_the_report_is_one_sentence_naming_it():
    with pytest.raises(InputError, match="the report's cloud: "):
        build_view(report(violation={"trace": TRACE}, cloud={"hosts": "nope"}), default_cloud())


def test_divergence_right_after_reset_has_no_diverging_row(tmp_path):
    rep = report(discrepancy={"trace": [], "step_index": -1, "message": "garbage after reset"})
    paths, view = write_trace(rep, default_cloud(), tmp_path, ("svg",), "builtin")
    assert view.diverging is None and view.rows == []
    assert [p.name for p in paths] == ["trace-table.svg"]
    assert "before the first step" in (tmp_path / "trace-table.svg").read_text(encoding="utf-8")


def _texts(scene):
    return [it for g in scene.groups for it in g.items if isinstance(it, Text)]


def test_a_faults_stderr_is_one_line_of_the_table_picture_per_line(tmp_path):
    from movecheck.graph.pictures import _trace_notes
    from movecheck.graph.scene import LINE_HEIGHT
    from movecheck.graph.tablepic import table_scene

    msg = ("the jsonl tracker exited (status 1); the tracker's stderr ends with:\n"
           "Traceback (most recent call last):\nTypeError: cannot read 'host'")
    view = build_view(report(discrepancy={"trace": TRACE[:3], "step_index": 2, "message": msg,
                                          "category": "fault"}), default_cloud())
    notes = _trace_notes(view)
    scene = table_scene("t", view.header, view.table, diverging=view.diverging, notes=notes)
    assert not [t for t in _texts(scene) if "\n" in t.text]
    lines = next(g for g in scene.groups if g.key == "notes").items
    assert "  TypeError: cannot read 'host'" in [t.text for t in lines]
    ys = [t.y for t in lines]
    assert all(b - a >= 12 for a, b in zip(ys, ys[1:], strict=False))  # no two on one line
    cells = [t for g in scene.groups if g.kind == "row" for t in g.items if isinstance(t, Text)]
    assert min(ys) > max(t.y for t in cells) + LINE_HEIGHT / 2


def test_device_differences_are_shown_not_only_usage(tmp_path):
    usage = {"VCPU": 2, "MEMORY_MB": 1024, "DISK_GB": 20}
    rep = report(discrepancy={
        "trace": TRACE[:3], "step_index": 2, "message": "the tracker's devices differ",
        "expected": {"devices": {"h1": {"pci0": "i1"}, "h2": {"pci0": "i1"}}},
        "observed": {"usage": {"h1": usage, "h2": usage},
                     "devices": {"h1": {"pci0": None}, "h2": {"pci0": "i1"}}}})
    paths, view = write_trace(rep, default_cloud(), tmp_path, ("svg", "html"), "builtin")
    assert view.header[-2] == "devices"
    assert view.table[0][-2] == "h1/pci0=i1 h2/pci0=free"
    # a cold migration: the destination's claim holds h2/pci0 too; the tracker
    # dropped the source's device early
    assert view.table[2][-2] == "h1/pci0=i1 h2/pci0=i1; tracker: h1/pci0=free h2/pci0=i1"
    assert (2, len(view.header) - 2) in view.over
    assert view.differences == ["device h1/pci0: spec i1, tracker free"]
    table = (tmp_path / "trace-table.svg").read_text(encoding="utf-8")
    assert "device h1/pci0: spec i1, tracker free" in table
    assert "tracker: h1/pci0=free h2/pci0=i1" in table  # its own line of the cell
    assert "device h1/pci0: spec i1, tracker free" in (tmp_path / "trace.html").read_text(
        encoding="utf-8")
