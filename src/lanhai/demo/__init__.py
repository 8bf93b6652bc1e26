"""The demo bank: small cuts of real public tables imported with the shipped mappings, a
few records written from the public sources they cite, real sequences annotated and
indexed, a breeding data set and an example patent deposit.

See ``data/PROVENANCE.md`` for where every file comes from and which links are made.
"""

from lanhai.demo.builder import DEMO_CURATOR, DemoSummary, build_demo
from lanhai.demo.sources import DEMO_SOURCES, DemoSource

__all__ = ["DEMO_CURATOR", "DEMO_SOURCES", "DemoSource", "DemoSummary", "build_demo"]
