"""JSON Schemas of the published shapes: Cloud, Step, Outcome, Observation.

The schemas are built here from the same tables the spec uses (the step
schema from :data:`movecheck.spec.steps.STEPS`), so they cannot drift from the
code; ``docs/schemas/*.schema.json`` are generated from this module
(``python -m movecheck.spec.schemas docs/schemas``) and a test checks that
they are current.  Versioned by :data:`~movecheck.spec.vocab.SCHEMA_VERSION`.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

from movecheck.spec.allocations import USAGE_LEVELS
from movecheck.spec.steps import STEPS
from movecheck.spec.vocab import CAPABILITIES, RESOURCE_CLASSES, SCHEMA_VERSION

_BASE = f"https://movecheck.invalid/schemas/v{SCHEMA_VERSION}/"
_NAME = {"type": "string", "pattern": "^[A-Za-z0-9_-]+$", "minLength": 1}
_COUNT = {"type": "integer", "minimum": 0}


def _schema(name: str, title: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": _BASE + name + ".schema.json",
        "title": title,
        "x-movecheck-schema-version": SCHEMA_VERSION,
        **body,
    }


def cloud_schema() -> dict[str, Any]:
    inventory = {
        "type": "object",
        "additionalProperties": False,
        "required": ["total"],
        "properties": {
            "total": _COUNT,
            "reserved": _COUNT,
            "allocation_ratio": {"type": "number", "exclusiveMinimum": 0},
        },
    }
    host = {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "inventories"],
        "properties": {
            "name": _NAME,
            "inventories": {
                "type": "object",
                "additionalProperties": False,
                "required": list(RESOURCE_CLASSES),
                "properties": {rc: inventory for rc in RESOURCE_CLASSES},
            },
            "devices": {"type": "array", "items": _NAME, "uniqueItems": True},
            "up": {"type": "boolean"},
        },
    }
    flavor = {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "vcpus", "memory_mb", "disk_gb"],
        "properties": {"name": _NAME, "vcpus": _COUNT, "memory_mb": _COUNT, "disk_gb": _COUNT,
                       "devices": _COUNT},
    }
    return _schema("cloud", "movecheck cloud (hosts, flavors, instances of one scenario)", {
        "type": "object",
        "additionalProperties": False,
        "required": ["hosts", "flavors", "instances"],
        "properties": {
            "schema_version": {"const": SCHEMA_VERSION},
            "hosts": {"type": "array", "items": host, "minItems": 1, "maxItems": 16},
            "flavors": {"type": "array", "items": flavor, "minItems": 1},
            "instances": {
                "oneOf": [
                    {"type": "integer", "minimum": 1, "maximum": 16},
                    {"type": "array", "items": _NAME, "minItems": 1, "maxItems": 16,
                     "uniqueItems": True},
                ]
            },
            "max_migrations": {"type": "integer", "minimum": 0, "maximum": 64},
            "options": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        },
    })


def step_schema() -> dict[str, Any]:
    variants = []
    for sd in STEPS.values():
        variants.append({
            "type": "object",
            "title": sd.name,
            "description": f"enabled when {sd.guard}; effect: {sd.effect}",
            "additionalProperties": False,
            "required": ["step", *sd.params],
            "properties": {"step": {"const": sd.name}, **{p: _NAME for p in sd.params}},
        })
    return _schema("step", "movecheck step (one atomic action of the cloud)", {"oneOf": variants})


def outcome_schema() -> dict[str, Any]:
    return _schema("outcome", "movecheck outcome (what a tracker did with a step)", {
        "type": "object",
        "additionalProperties": False,
        "required": ["result"],
        "properties": {
            "result": {"enum": ["accepted", "rejected"]},
            "reason": {"type": ["string", "null"]},
            "devices": {"type": "array", "items": _NAME, "uniqueItems": True},
        },
    })


def observation_schema() -> dict[str, Any]:
    usage_vec = {
        "type": "object",
        "additionalProperties": False,
        "required": list(RESOURCE_CLASSES),
        "properties": {rc: {"type": "integer"} for rc in RESOURCE_CLASSES},
    }
    return _schema("observation", "movecheck observation (what a tracker exposes)", {
        "type": "object",
        "additionalProperties": False,
        "required": ["usage"],
        "properties": {
            "usage": {"type": "object", "additionalProperties": usage_vec},
            "devices": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": {"type": ["string", "null"]},
                },
            },
            "migrations": {"type": "object", "additionalProperties": {"type": "string"}},
            "instances": {"type": "object", "additionalProperties": {"type": "string"}},
            "allocations": {
                "description": "Placement's allocations per consumer (an instance or a "
                               "migration id): {consumer: {host: {resource class: amount}}}; "
                               "zero amounts may be left out",
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {rc: _COUNT for rc in RESOURCE_CLASSES},
                    },
                },
            },
        },
        "x-capabilities": list(CAPABILITIES),
        "x-usage-levels": list(USAGE_LEVELS),
    })


SCHEMAS = {
    "cloud": cloud_schema,
    "step": step_schema,
    "outcome": outcome_schema,
    "observation": observation_schema,
}


def schema(name: str) -> dict[str, Any]:
    """The schema called ``name`` (cloud, step, outcome, observation)."""
    return SCHEMAS[name]()


@cache
def validator(name: str):
    """A cached jsonschema validator for ``name``."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema(name))


def write_all(directory: str | Path) -> list[Path]:
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    out = []
    for name in SCHEMAS:
        p = d / f"{name}.schema.json"
        p.write_text(json.dumps(schema(name), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        out.append(p)
    return out


if __name__ == "__main__":  # pragma: no cover
    for p in write_all(sys.argv[1] if len(sys.argv) > 1 else "docs/schemas"):
        print(p)
