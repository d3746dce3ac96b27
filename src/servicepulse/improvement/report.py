"""The 7+/9+ project scan as a PDF (HTML -> WeasyPrint), for the page and the command line."""

from __future__ import annotations

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from servicepulse.improvement.service import ScanReport
from servicepulse.insights.report import TEMPLATE_DIR


def scan_html(report: ScanReport, *, language: str = "nl", organisation: str = "") -> str:
    from servicepulse.web.i18n import load_catalogue
    from servicepulse.web.templating import format_number

    catalogue = load_catalogue()
    env = Environment(loader=FileSystemLoader(TEMPLATE_DIR), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.get_template("improvement/scan_report.html").render(
        report=report, lang=language, organisation=organisation,
        t=lambda key, **values: catalogue.translate(key, language, **values),
        number=lambda value, digits=1: format_number(value, language, digits))


def scan_pdf(report: ScanReport, **kwargs) -> bytes:
    from weasyprint import HTML

    return HTML(string=scan_html(report, **kwargs)).write_pdf()
