"""movecheck: a formal model and conformance kit for move resource tracking.

The code lives in three packages installed under this namespace:
``movecheck.spec`` (vocabulary and the spec), ``movecheck.model`` (the
reference tracker) and ``movecheck.conformance`` (adapters, drivers, reports,
command line).  See design.md section 1.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("movecheck")
except PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
    __version__ = "0.0.0"
