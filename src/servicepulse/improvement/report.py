"""The 7+/9+ project scan as a PDF (HTML -> WeasyPrint), for the page and the command line."""

from __future__ import annotations

from servicepulse.http.i18n import load_catalogue
from servicepulse.http.templating import format_number, template_environment
from servicepulse.improvement.service import ScanReport


def scan_html(report: ScanReport, *, language: str = "nl", organisation: str = "") -> str:
    catalogue = load_catalogue()
    env = template_environment()
    return env.get_template("improvement/scan_report.html").render(
        report=report, lang=language, organisation=organisation,
        t=lambda key, **values: catalogue.translate(key, language, **values),
        number=lambda value, digits=1: format_number(value, language, digits))


def scan_pdf(report: ScanReport, **kwargs) -> bytes:
    from weasyprint import HTML

    return HTML(string=scan_html(report, **kwargs)).write_pdf()
