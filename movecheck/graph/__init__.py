"""movecheck.graph: pictures of the status machines, the state space,
counterexamples and coverage (issue 6, docs/graphs.md).

A picture is built once as a :class:`~.drawing.Drawing` and written in every
format from it: SVG and PNG (a system Graphviz ``dot`` when installed,
else the Graphviz that pip installs, run as WebAssembly: :mod:`.layout`),
DOT, Mermaid, and one self-contained HTML page.  The public entry points are in :mod:`.pictures`.
"""

from movecheck.graph.analysis import analyse, analyse_status_machines
from movecheck.graph.coverage import coverage_of, never_exercised
from movecheck.graph.output import FORMATS, parse_formats
from movecheck.graph.pictures import write_coverage, write_space, write_status_machines, write_trace

__all__ = [
    "FORMATS", "analyse", "analyse_status_machines", "coverage_of", "never_exercised",
    "parse_formats", "write_coverage", "write_space", "write_status_machines", "write_trace",
]
