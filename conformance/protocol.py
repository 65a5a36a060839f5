"""The jsonl tracker protocol's JSON shapes, checked with JSON Schema.

The schema (``conformance/schemas/trace.schema.json``, published as
docs/schemas/trace.schema.json) defines one line of a recorded trace and,
in ``$defs``, every reply a jsonl tracker sends: ``reset_reply``, ``outcome``,
``observation``, ``error_reply``.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any


@cache
def schema() -> dict[str, Any]:
    text = (files("movecheck.conformance") / "schemas" / "trace.schema.json").read_text("utf-8")
    return json.loads(text)


@cache
def validator(definition: str):
    """A jsonschema validator for ``#/$defs/<definition>`` of the trace schema."""
    from jsonschema import Draft202012Validator

    full = schema()
    return Draft202012Validator({"$defs": full["$defs"], "$ref": f"#/$defs/{definition}"})


def first_error(definition: str, value: Any) -> str | None:
    """None if ``value`` fits ``definition``; else one sentence naming the field at fault."""
    v = validator(definition)
    errors = list(v.iter_errors(value))
    if not errors:
        return None
    from jsonschema.exceptions import best_match

    e = best_match(errors)
    path = [str(p) for p in e.absolute_path]
    if e.validator == "required" and isinstance(e.instance, dict):
        missing = [k for k in e.validator_value if k not in e.instance]
        if missing:
            return f"field {'/'.join(path + [missing[0]])}: missing"
    where = "/".join(path)
    return f"{'field ' + where if where else 'the object'}: {e.message}"
