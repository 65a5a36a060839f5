"""movecheck: a formal model and conformance kit for move resource tracking.

The code lives in three packages installed under this namespace:
``movecheck.spec`` (vocabulary and the spec), ``movecheck.model`` (the
reference tracker) and ``movecheck.conformance`` (adapters, drivers, reports,
command line).  docs/layout.md shows where everything is.
"""



def __getattr__(name: str):
    # Looked up on first use: reading the installed metadata takes a noticeable part of a
    # second, and the command line wants to be listening for Ctrl-C before that.
    if name != "__version__":
        raise AttributeError(f"module 'movecheck' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("movecheck")
    except PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
        v = "0.0.0"
    globals()["__version__"] = v
    return v
