"""The report envelope every ``--json`` report shares (docs/cli.md, "Report envelope").

Every report is one JSON object with at least ``command``, ``ok``, ``seconds``
and ``movecheck_version``; the per-command fields are added by the command.
Reports are written atomically (temporary file + rename) so that a crash or a
Ctrl-C never leaves half a report behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from movecheck import __version__


def envelope(command: str, ok: bool, seconds: float, **fields: Any) -> dict[str, Any]:
    report: dict[str, Any] = {
        "command": command,
        "ok": bool(ok),
        "seconds": round(seconds, 3),
        "movecheck_version": __version__,
    }
    report.update(fields)
    return report


def write_json(path: str | os.PathLike, data: Any) -> Path:
    """Write ``data`` as JSON to ``path`` atomically; returns the path."""
    p = Path(path)
    if p.parent and not p.parent.exists():
        p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=p.name + ".", suffix=".tmp", dir=p.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, sort_keys=False, default=str)
            f.write("\n")
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return p


def read_report(path: str | os.PathLike) -> dict[str, Any]:
    """Read a movecheck report, or raise InputError with one sentence."""
    from movecheck.spec.errors import InputError

    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise InputError(f"cannot read report {p}: {e.strerror or e}") from None
    except json.JSONDecodeError as e:
        raise InputError(f"{p} is not JSON ({e.msg} at line {e.lineno})") from None
    if not isinstance(data, dict) or "command" not in data or "movecheck_version" not in data:
        raise InputError(f"{p} is not a movecheck report (no 'command'/'movecheck_version')")
    return data


def machine_info() -> dict[str, Any]:
    """The machine a benchmark ran on (every bench/ JSON report states it)."""
    import platform
    import sys

    try:
        load = os.getloadavg()
    except OSError:  # pragma: no cover
        load = None
    return {
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "loadavg_at_start": load,
    }
