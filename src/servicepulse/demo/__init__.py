"""The demo organisation: Glasvezel Noord, a fictional Dutch fibre-internet provider.

``load_demo(engine, size="small", seed=2026, reset=False, progress=None)``
writes twelve months of customers, cases with their event logs and promises,
journey-end survey responses with verbatims, and improvement projects. The
scores follow a documented effect model (`servicepulse.demo.effects`).
"""

from servicepulse.demo.generate import SIZES
from servicepulse.demo.loader import DemoAlreadyLoaded, DemoLoginInfo, DemoSummary, demo_loaded, load_demo

__all__ = ["load_demo", "DemoAlreadyLoaded", "DemoSummary", "DemoLoginInfo", "demo_loaded", "SIZES"]
