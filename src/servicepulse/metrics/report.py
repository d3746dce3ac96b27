"""The monthly management report: the dashboard's figures and charts as one PDF (HTML + inline SVG -> WeasyPrint).

Used by the page ``/metrics/report.pdf?month=2026-10`` and the command
``servicepulse report monthly --month 2026-10 --out report.pdf``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from jinja2 import Environment
from sqlalchemy.orm import Session

from servicepulse.http.i18n import load_catalogue
from servicepulse.http.templating import format_day, format_month, format_number, template_environment
from servicepulse.kernels.statistics import format_p
from servicepulse.metrics import charts, service
from servicepulse.metrics import repository as repo
from servicepulse.metrics.figures import figure_helper


def _environment() -> Environment:
    return template_environment()


def _translator(language: str):
    catalogue = load_catalogue()
    return lambda key, **values: catalogue.translate(key, language, **values)


def monthly_report_html(session: Session, month: str, *, language: str = "nl", min_n: int = 30,
                        organisation: str = "") -> str:
    """The report as one self-contained HTML page (charts inline as SVG)."""
    t = _translator(language)
    catalogue = load_catalogue()
    f = service.month_filter(month)
    view = service.overview(session, f, period="month", min_n=min_n, language=language)
    year = replace(f, date_from=(f.date_to - timedelta(days=365)).replace(day=1))
    trend = service.metrics(session, year, by="period", period="month", min_n=min_n, language=language)
    journeys = []
    for journey in repo.journeys(session):
        mv = service.moment_view(session, journey.id, f, min_n=min_n, language=language)
        journeys.append({"view": mv, "svg": charts.moment_row(mv, t("insights.chart.moment_row",
                                                                    journey=mv.journey_name), language=language)})
    drivers = service.key_drivers(session, replace(f, date_from=year.date_from), include="case", min_n=min_n,
                                  language=language)
    context = {
        "t": t, "lang": language, "month": format_month(month, language, catalogue), "organisation": organisation,
        "view": view,
        "trend_svg": charts.nps_trend(trend, t("insights.chart.nps_trend"), language=language),
        "journeys": journeys, "drivers": drivers,
        "drivers_svg": charts.driver_bars(drivers, t("insights.chart.drivers"), t("insights.drivers.weight"),
                                          language=language),
        "number": lambda value, digits=1: format_number(value, language, digits),
        "figure": figure_helper(language),
        "day_text": lambda value, weekday=False: format_day(value, language, catalogue, weekday),
        "pvalue": lambda p: (lambda text: text if text.startswith("<") else "= " + text)(format_p(p, language)),
        "one_day": timedelta(days=1),
    }
    return _environment().get_template("metrics/report.html").render(**context)


def monthly_report_pdf(session: Session, month: str, **kwargs) -> bytes:
    from weasyprint import HTML

    return HTML(string=monthly_report_html(session, month, **kwargs)).write_pdf()
