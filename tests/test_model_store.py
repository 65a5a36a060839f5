"""The reference tracker's database: bad input, foreign files, restart from a file."""

from __future__ import annotations

import sqlite3

import pytest

from movecheck.model import ReferenceTracker
from movecheck.model.store import Store
from movecheck.spec.cloudfile import default_cloud
from movecheck.spec.errors import InputError
from movecheck.spec.vocab import Step


@pytest.mark.parametrize("step", [
    Step("boot", instance="i9", host="h1", flavor="small"),
    Step("boot", instance="i1", host="h9", flavor="small"),
    Step("boot", instance="i1", host="h1", flavor="medium"),
    Step("delete", instance="i1"),
    Step("confirm", migration="m5"),
    Step("fail", migration="m1"),
    Step("audit", host="nowhere"),
    Step("host_up", host="h1"),
    Step("nonsense"),
    Step("resize_claim", migration="m1", instance="i1", dest="h2"),  # flavor missing
    Step("audit", host=["h1"]),  # not a name
    Step("boot", instance="i1", host="h1", flavor=3),
])
def test_bad_steps_are_rejected_with_a_reason(step):
    t = ReferenceTracker()
    t.reset(default_cloud())
    out = t.apply(step)
    assert not out.accepted
    assert isinstance(out.reason, str) and out.reason
    assert t.observe().migrations == {}


def test_corrupt_file_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "model.db"
    data = b"this is not a database at all\n" * 200
    path.write_bytes(data)
    t = ReferenceTracker(path)
    with pytest.raises(InputError, match="not a movecheck model database"):
        t.reset(default_cloud())
    with pytest.raises(InputError, match="not a movecheck model database"):
        t.reopen()
    assert path.read_bytes() == data


def test_foreign_sqlite_file_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "nova.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE instances (uuid TEXT)")
    conn.execute("INSERT INTO instances VALUES ('abc')")
    conn.commit()
    conn.close()
    data = path.read_bytes()
    with pytest.raises(InputError, match="database but not a movecheck model database") as e:
        ReferenceTracker(path).reset(default_cloud())
    assert path.read_bytes() == data
    assert "\n" not in str(e.value)  # one sentence


def test_missing_file_cannot_be_reopened(tmp_path):
    with pytest.raises(InputError, match="no movecheck model database"):
        ReferenceTracker(tmp_path / "absent.db").reopen()


def test_reset_reuses_own_file_and_reopen_resumes(tmp_path):
    path = tmp_path / "model.db"
    t = ReferenceTracker(path)
    t.reset(default_cloud())
    assert t.apply(Step("boot", instance="i1", host="h1", flavor="large")).accepted
    t.reset(default_cloud())  # a fresh scenario in the same file
    assert t.observe().instances == {}
    assert t.apply(Step("boot", instance="i2", host="h2", flavor="small")).accepted
    assert t.apply(Step("host_down", host="h1")).accepted
    before = t.observe()
    t.close()
    again = ReferenceTracker(path)
    cloud = again.reopen()
    assert cloud == default_cloud()
    assert again.observe() == before
    assert again.nova.rts["h1"] is None  # still down after the restart


def test_store_refuses_foreign_marker(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE movecheck_meta (key TEXT PRIMARY KEY, value TEXT)")
    conn.execute("INSERT INTO movecheck_meta VALUES ('schema', 'something-else-9')")
    conn.commit()
    conn.close()
    with pytest.raises(InputError, match="schema something-else-9"):
        Store.open_existing(path)


def test_file_factory_checks_the_file_before_any_run(tmp_path):
    from movecheck.model.tracker import reference_file_factory

    bad = tmp_path / "notes.db"
    bad.write_text("shopping list\n" * 100)
    with pytest.raises(InputError, match="not a movecheck model database"):
        reference_file_factory(bad)
    assert bad.read_text() == "shopping list\n" * 100
    with pytest.raises(InputError, match="is a directory"):
        reference_file_factory(tmp_path)
    good = tmp_path / "run.db"
    factory = reference_file_factory(good)  # absent: fine, created on reset
    t = factory()
    t.reset(default_cloud())
    assert t.apply(Step("boot", instance="i1", host="h1", flavor="small")).accepted
    t.close()
    reference_file_factory(good)  # now a movecheck model database: still fine


def test_database_in_a_missing_directory_is_one_sentence(tmp_path):
    with pytest.raises(InputError, match="does not exist") as e:
        ReferenceTracker(tmp_path / "nope" / "run.db").reset(default_cloud())
    assert "\n" not in str(e.value)


def test_apply_or_observe_before_reset_is_an_input_error():
    t = ReferenceTracker()
    with pytest.raises(InputError, match="reset"):
        t.apply(Step("audit", host="h1"))
    with pytest.raises(InputError, match="reset"):
        t.observe()
