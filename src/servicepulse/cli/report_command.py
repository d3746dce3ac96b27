"""`servicepulse report ...`: the monthly management report and the project scan as files; aggregate upkeep."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer

from servicepulse.cli.app import app
from servicepulse.cli.context import console, engine
from servicepulse.db.session import UnitOfWork
from servicepulse.errors import ValidationFailed
from servicepulse.http.params import parse_month
from servicepulse.improvement import service
from servicepulse.improvement.report import scan_csv, scan_pdf
from servicepulse.kernels.statistics import AnalyticsInputError
from servicepulse.metrics import predicted as predicted_experience
from servicepulse.metrics.report import monthly_report_pdf
from servicepulse.responses import refresh_daily_counts
from servicepulse.settings import get_settings

report_app = typer.Typer(help="Reports as PDF/CSV files, and the aggregates behind the dashboard.",
                         no_args_is_help=True)
app.add_typer(report_app, name="report")


def _language(language: str) -> str:
    if language not in ("nl", "en"):
        raise ValidationFailed(f"--language must be nl or en, got {language!r}", [("language", "nl or en")])
    return language


@report_app.command("monthly")
def monthly(month: str = typer.Option(..., "--month", help="The month, e.g. 2026-10."),
            out: Path = typer.Option(..., "--out", help="Where to write the PDF."),
            language: str = typer.Option("nl", "--language", help="nl or en.")) -> None:
    """Write the monthly management report (headline figures, trend, journeys, drivers) as PDF."""

    settings = get_settings()
    bounds = parse_month(month, "--month")  # 9999-12 is refused here, not an overflow later
    if bounds is None:
        raise ValidationFailed("--month is empty; give a month such as 2026-10", [("month", "required")])
    month = f"{bounds[0]:%Y-%m}"
    with console.status(f"building the report for {month} ..."):
        with UnitOfWork(engine(), readonly=True) as session:
            try:
                pdf = monthly_report_pdf(session, month, language=_language(language), min_n=settings.min_n,
                                         organisation=settings.organisation_name)
            except AnalyticsInputError as exc:
                raise ValidationFailed(str(exc), [("month", str(exc))]) from None
    out.write_bytes(pdf)
    console.print(f"wrote {out} ({len(pdf):,} bytes)")


@report_app.command("scan")
def scan(out: Path = typer.Option(..., "--out", help="Where to write it: .pdf or .csv."),
         language: str = typer.Option("nl", "--language", help="nl or en.")) -> None:
    """Write the 7+/9+ scan of the improvement projects as PDF or CSV."""

    settings = get_settings()
    if out.suffix.lower() not in (".pdf", ".csv"):
        raise ValidationFailed(f"--out must end in .pdf or .csv, got {out.name}", [("out", ".pdf or .csv")])
    with UnitOfWork(engine(), readonly=True) as session:
        report = service.scan(session, min_n=settings.min_n, language=_language(language))
    if out.suffix.lower() == ".csv":
        out.write_text(scan_csv(report, language), encoding="utf-8")
    else:
        out.write_bytes(scan_pdf(report, language=language, organisation=settings.organisation_name))
    console.print(f"wrote {out} ({len(report.rows)} projects)")


@report_app.command("aggregates")
def aggregates(since: str = typer.Option("", "--since", help="First UTC day to rebuild (YYYY-MM-DD); default all.")) -> None:
    """Rebuild the daily score counts the dashboard reads (after an import; incremental with --since)."""

    day = None
    if since:
        try:
            day = date.fromisoformat(since)
        except ValueError:
            raise ValidationFailed(f"--since must be a date like 2026-10-01, got {since!r}",
                                   [("since", "YYYY-MM-DD")]) from None
    with console.status("rebuilding daily score counts ..."):
        with UnitOfWork(engine()) as session:
            rows = refresh_daily_counts(session, day)
    console.print(f"daily score counts rebuilt: {rows:,} rows")


@report_app.command("predicted", help=(
    "Validate the predicted experience on held-out respondents (5-fold cross-validation by customer): the "
    "grade's mean absolute error, the share of held-out grades inside the 80% interval, the ROC AUC of the "
    "detractor probability; then the NPS and grade of the respondents (as answered, as predicted) beside all "
    "closed cases (as predicted). The same as the page /metrics/predicted."))
def predicted(as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON.")) -> None:

    with console.status("fitting and validating the predicted experience ..."):
        with UnitOfWork(engine(), readonly=True) as session:
            view = predicted_experience.build(session)
    if not view.ok:
        raise ValidationFailed("too few answers about closed cases to learn the predicted experience "
                               f"(at least {predicted_experience.MIN_ANSWERS} needed)", [("answers", "too few")])
    summary = predicted_experience.summary_dict(view)
    if as_json:
        console.print_json(json.dumps(summary))
        return
    v = summary["validation"]

    def _say(text: str) -> None:
        console.print(text, soft_wrap=True, highlight=False)

    _say(f"held-out validation: {v['n_answers']:,} answers of {v['n_customers']:,} customers, "
         f"{v['folds']}-fold cross-validation by customer")
    _say(f"  grade: mean absolute error {v['mae']:.2f} (naive {v['mae_baseline']:.2f}); "
         f"80% interval covers {v['coverage']:.1%} of held-out grades (mean width {v['width']:.2f})")
    _say(f"  detractors: ROC AUC {v['auc_detractor']:.3f}; share {v['detractor_share']:.1%}, "
         f"predicted {v['detractor_predicted']:.1%}; Brier score {v['brier_detractor']:.3f}")
    for row in v["reliability"]:
        _say(f"    bin {row['bin']}: predicted {row['predicted']:.1%}, observed {row['observed']:.1%} "
             f"({row['n']:,} answers)")
    for key, label in (("respondents", "respondents, as answered"), ("respondents_predicted", "respondents, predicted"),
                       ("all_predicted", "all closed cases, predicted"),
                       ("not_answered_predicted", "closed cases without an answer, predicted")):
        b = summary[key]
        _say(f"{label:<44} n={b['n']:>7,}  NPS {b['nps']:+6.1f}  grade {b['grade']:.2f}")
