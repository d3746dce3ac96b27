"""Charts as Vega-Lite specs rendered to SVG on the server (vl-convert), so one chart
serves the page and the PDF report. Kernel: no web or database imports."""

from servicepulse.kernels.charts import specs
from servicepulse.kernels.charts.render import png, svg

__all__ = ["svg", "png", "specs"]
