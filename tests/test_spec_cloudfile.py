"""Cloud files and flags: the default cloud, and one sentence for every bad input."""

import json

import pytest

from movecheck.cli import main
from movecheck.spec import default_cloud, load_cloud
from movecheck.spec.errors import CloudError


def test_default_cloud_shape():
    c = default_cloud()
    assert c.host_names == ("h1", "h2")
    assert c.flavor_names == ("small", "large")
    assert c.instances == ("i1", "i2")
    assert [h.devices for h in c.hosts] == [("pci0",), ("pci0",)]
    assert c.hosts[0].capacity("MEMORY_MB") == 1536


def _write(tmp_path, data, suffix=".json"):
    p = tmp_path / f"cloud{suffix}"
    p.write_text(json.dumps(data) if suffix == ".json" else data)
    return p


def test_toml_cloud_file(tmp_path):
    p = _write(tmp_path, """
instances = 1
max_migrations = 3
[[hosts]]
name = "cmp1"
devices = ["gpu0", "gpu1"]
inventories.VCPU = { total = 8, allocation_ratio = 16.0 }
inventories.MEMORY_MB = { total = 4096, reserved = 512, allocation_ratio = 1.5 }
inventories.DISK_GB = { total = 100 }
[[flavors]]
name = "m1"
vcpus = 2
memory_mb = 1024
disk_gb = 10
devices = 1
""", ".toml")
    c = load_cloud(p)
    assert c.hosts[0].capacity("VCPU") == 128
    assert c.hosts[0].capacity("MEMORY_MB") == 5376
    assert c.instances == ("i1",) and c.max_migrations == 3


BASE = default_cloud().to_json()


def _mutate(path, value):
    data = json.loads(json.dumps(BASE))
    obj = data
    for key in path[:-1]:
        obj = obj[key]
    obj[path[-1]] = value
    return data


@pytest.mark.parametrize("path,value,needle", [
    (("colour",), "blue", "unknown key 'colour'"),
    (("hosts", 0, "inventories", "VCPU", "total"), -1, "hosts[0].inventories.VCPU.total"),
    (("hosts", 0, "inventories", "VCPU", "allocation_ratio"), 0, "allocation_ratio must be a number > 0"),
    (("hosts", 0, "inventories", "VCPU", "reserved"), 99, "reserved (99) exceeds total"),
    (("flavors", 1, "memory_mb"), 10**6, "flavors[1] (large) fits on no host"),
    (("instances",), 0, "instances must be a whole number from 1 to 16"),
    (("max_migrations",), 1000, "max_migrations must be a whole number from 0 to 64"),
    (("options",), ["bogus"], "unknown spec option 'bogus'"),
])
def test_bad_cloud_files_exit_2_with_one_sentence(tmp_path, capsys, path, value, needle):
    p = _write(tmp_path, _mutate(path, value))
    with pytest.raises(CloudError, match=None) as e:
        load_cloud(p)
    assert needle in str(e.value)
    assert main(["explore", "--cloud", str(p)]) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err and err.count("\n") == 1


@pytest.mark.parametrize("argv,needle", [
    (["explore", "--hosts", "0"], "--hosts must be a whole number from 1 to 16"),
    (["explore", "--instances", "99"], "--instances must be a whole number from 1 to 16"),
    (["explore", "--cloud", "/nonexistent.toml"], "cannot read cloud file"),
    (["explore", "--cloud", "x.json", "--hosts", "2"], "either --cloud or --hosts"),
    (["explore", "--no-such-flag"], "unrecognized arguments"),
])
def test_bad_flags_exit_2(capsys, argv, needle):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


def test_malformed_json_cloud(tmp_path, capsys):
    p = tmp_path / "c.json"
    p.write_text("{nope")
    assert main(["explore", "--cloud", str(p)]) == 2
    assert "is not valid json" in capsys.readouterr().err
