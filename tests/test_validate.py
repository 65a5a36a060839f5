"""``movecheck validate``: recorded traces against the spec (issue 5 item 5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from movecheck.cli import main
from movecheck.conformance.protocol import schema
from movecheck.conformance.validate import validate_file
from movecheck.spec.cloudfile import default_cloud

ROOT = Path(__file__).parent.parent


def _cloud_two_devices():
    c = default_cloud().to_json()
    c["hosts"][0]["devices"] = ["pci0", "pci1"]
    return c


def _write(tmp_path, lines) -> Path:
    p = tmp_path / "t.jsonl"
    p.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    return p


def _usage(h1=(0, 0, 0), h2=(0, 0, 0)):
    rcs = ("VCPU", "MEMORY_MB", "DISK_GB")
    return {"h1": dict(zip(rcs, h1, strict=True)), "h2": dict(zip(rcs, h2, strict=True))}


BOOT_LARGE = {"op": "apply", "step": {"step": "boot", "instance": "i1", "host": "h1",
                                      "flavor": "large"}, "reply": {"result": "accepted"}}


def test_a_trace_recorded_from_the_reference_tracker_validates_and_an_edit_is_caught(tmp_path):
    trace = tmp_path / "ref.jsonl"
    assert main(["conform", "--tracker", "reference", "--examples", "15", "--seed", "2",
                 "--record-trace", str(trace)]) == 0
    result = validate_file(trace)
    assert result.divergence is None and result.steps > 200 and result.resets >= 15
    lines = trace.read_text().splitlines()
    for k, text in enumerate(lines):
        obj = json.loads(text)
        if obj["op"] == "observe" and obj["reply"]["usage"]["h1"]["MEMORY_MB"]:
            obj["reply"]["usage"]["h1"]["MEMORY_MB"] += 512
            lines[k] = json.dumps(obj)
            break
    trace.write_text("\n".join(lines) + "\n")
    report = tmp_path / "v.json"
    assert main(["validate", str(trace), "--json", str(report)]) == 1
    data = json.loads(report.read_text())
    assert data["command"] == "validate" and data["ok"] is False
    assert data["divergence"]["line"] == k + 1
    assert "conservation" in data["divergence"]["invariants"]


def test_unrecorded_device_picks_are_read_every_way_the_spec_allows(tmp_path):
    c = _cloud_two_devices()
    devices_obs = {"usage": _usage((2, 1024, 20)), "devices": {"h1": {"pci0": None, "pci1": "i1"},
                                                               "h2": {"pci0": None}}}
    ok = validate_file(_write(tmp_path, [{"op": "reset", "cloud": c}, BOOT_LARGE,
                                         {"op": "observe", "reply": devices_obs}]))
    assert ok.divergence is None and ok.max_readings == 2
    wrong = dict(devices_obs, usage=_usage((3, 1024, 20)))
    bad = validate_file(_write(tmp_path, [{"op": "reset", "cloud": c}, BOOT_LARGE,
                                          {"op": "observe", "reply": wrong}]))
    d = bad.divergence
    assert d["line"] == 3 and len(d["readings"]) == 2
    picks = sorted(r["assumed_picks"][0]["devices"][0] for r in d["readings"])
    assert picks == ["pci0", "pci1"]
    assert all("usage h1 VCPU: expected 2, observed 3" in r["differences"] for r in d["readings"])


def test_an_accepted_step_the_spec_rejects_diverges_at_its_line(tmp_path, capsys):
    lines = [{"op": "reset", "cloud": default_cloud().to_json()},
             {"op": "apply", "step": {"step": "confirm", "migration": "m1"},
              "reply": {"result": "accepted"}}]
    assert main(["validate", str(_write(tmp_path, lines))]) == 1
    out = capsys.readouterr().out
    assert "line 2" in out and "unknown migration m1" in out


@pytest.mark.parametrize("line, words", [
    ("{not json", "line 2: not JSON"),
    ('{"op": "apply", "step": {"step": "audit", "host": "h1"}}', "line 2: field reply: missing"),
    ('{"op": "apply", "step": {"step": "audit", "host": 7}, "reply": {"result": "accepted"}}',
     "line 2: field step/host"),
    ('{"op": "observe", "reply": {"usage": {"h1": {"VCPU": "two"}}}}', "line 2: field reply/usage/h1/VCPU"),
    ('{"op": "dance"}', "line 2: field op: 'dance' is not one of reset, apply, observe, close"),
    ('[1, 2]', "line 2: a trace line must be a JSON object"),
])
def test_a_malformed_line_is_exit_2_with_line_number_and_field(tmp_path, capsys, line, words):
    p = _write(tmp_path, [{"op": "reset", "cloud": default_cloud().to_json()}, line])
    assert main(["validate", str(p)]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_a_trace_must_start_with_reset(tmp_path, capsys):
    p = _write(tmp_path, [{"op": "observe", "reply": {"usage": _usage()}}])
    assert main(["validate", str(p)]) == 2
    assert "line 1: the trace must start with a reset line" in capsys.readouterr().err


def test_the_published_trace_schema_is_the_packaged_one():
    published = json.loads((ROOT / "docs" / "schemas" / "trace.schema.json").read_text())
    assert published == schema()


def test_the_example_trace_validates_and_fails_at_the_edited_line(tmp_path):
    example = ROOT / "conformance" / "examples" / "trace.jsonl"
    assert validate_file(example).divergence is None
    lines = example.read_text().splitlines()
    k = next(n for n, x in enumerate(lines) if '"confirm_finish"' in x)
    edited = json.loads(lines[k + 1])  # the observation after confirm_finish
    edited["reply"]["usage"]["h1"]["VCPU"] = 1  # the source still charged: bug 1707071
    lines[k + 1] = json.dumps(edited)
    p = _write(tmp_path, lines)
    d = validate_file(p).divergence
    assert d["line"] == k + 2 and "confirm_frees_source" in d["invariants"]


def test_a_step_name_typo_is_a_setup_error_with_a_suggestion(tmp_path, capsys):
    """One typo away from a real step: exit 2 and "did you mean", not a divergence."""
    cloud = default_cloud().to_json()
    path = _write(tmp_path, [
        {"op": "reset", "cloud": cloud},
        {"op": "apply", "step": {"step": "resize_clam", "migration": "m1", "instance": "i1",
                                 "dest": "h2", "flavor": "large"},
         "reply": {"result": "rejected"}},
    ])
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "line 2" in err and "did you mean 'resize_claim'?" in err and "Traceback" not in err
    # The driver's deliberate probe (nothing like a real step) is left to the spec.
    path = _write(tmp_path, [
        {"op": "reset", "cloud": cloud},
        {"op": "apply", "step": {"step": "no_such_step"}, "reply": {"result": "rejected"}},
    ])
    assert main(["validate", str(path)]) == 0
