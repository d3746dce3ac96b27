"""The 7+/9+ project scan as people read it: the ranked summary (one partial for the page and the PDF), one
sentence of why per project, lifts with their unit and interval, and the CSV and PDF (HTML -> WeasyPrint)."""

from __future__ import annotations

from dataclasses import dataclass

from servicepulse.http.i18n import Catalogue, load_catalogue
from servicepulse.http.templating import format_number, template_environment
from servicepulse.improvement.service import ScanReport, ScanRow, TargetLift, Why
from servicepulse.kernels.spreadsheet import csv_text, xlsx_bytes


@dataclass(frozen=True)
class TargetView:
    name: str
    kind: str
    score: str
    norm: str
    counted: str
    slope: str
    volume: str
    share: str
    lift: str


@dataclass(frozen=True)
class RowView:
    rank: int
    project_id: int
    title: str
    owner: str | None
    code: str  # 7plus, 9plus, little_potential
    label: str
    lift: str  # "+0,35"
    unit: str  # "punt op de aanbevelingsscore (0–10)"
    interval: str  # "95%-interval: +0,21 tot +0,49"
    cost: str | None
    per_1000: str | None
    why: str
    capped: bool
    targets: list[TargetView]


@dataclass(frozen=True)
class Summary:
    rows: list[RowView]
    has_cost: bool  # some project has a cost: show cost and lift per € 1,000
    unit: str
    method: str  # how the figures are made: sharing, the scale's bound, the interval
    over_scale: str | None  # said when all projects together would pass the top of the scale


class _Texts:
    """Catalogue texts and numbers in one language."""

    def __init__(self, language: str, catalogue: Catalogue | None = None):
        self.language = language
        self.catalogue = catalogue or load_catalogue()

    def t(self, key: str, **values) -> str:
        return self.catalogue.translate(key, self.language, **values)

    def number(self, value: float | None, digits: int = 1) -> str:
        return format_number(value, self.language, digits)

    def signed(self, value: float | None, digits: int = 2) -> str:
        text = self.number(value, digits)
        return text if text.startswith(("-", "–")) or value is None or round(value, digits) == 0 else "+" + text

    def percent(self, share: float | None) -> str:
        return "–" if share is None else self.number(100 * share, 0) + "%"

    def norm(self, value: float | None) -> str:
        return self.number(value, 0 if value is not None and float(value).is_integer() else 1)


def unit_text(report: ScanReport, language: str, catalogue: Catalogue | None = None) -> str:
    return _Texts(language, catalogue).t(f"improvement.unit.{report.outcome}")


def why_sentence(why: Why, language: str, catalogue: Catalogue | None = None) -> str:
    """One plain sentence: which moment or fact the project mainly moves, where it stands, whom it reaches."""
    x = _Texts(language, catalogue)
    shared = ("" if not why.others else x.t("improvement.why.shared_one") if why.others == 1
              else x.t("improvement.why.shared_many", others=why.others))
    return x.t(f"improvement.why.{why.code}", target=why.target, shared=shared, score=x.number(why.score, 1),
               norm=x.norm(why.norm), reach=x.percent(why.reach), prevalence=x.percent(why.prevalence),
               effect=x.number(why.effect, 1), share=x.percent(why.share))


def _interval(x: _Texts, report: ScanReport, low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return x.t("improvement.interval_unknown")
    return x.t("improvement.interval", confidence=x.number(100 * report.confidence, 0), low=x.signed(low),
               high=x.signed(high))


def _target(x: _Texts, part: TargetLift) -> TargetView:
    e = part.effect
    share = "100%" if part.projects == 1 else x.t("improvement.shared", share=x.percent(part.share),
                                                   projects=part.projects)
    return TargetView(name=e.moment, kind=e.kind, score=x.number(e.score), norm="–" if e.kind == "driver" else x.norm(e.norm),
                      counted=x.percent(e.counted) if e.kind == "driver" else x.number(e.counted, 2), slope=x.number(e.slope, 2), volume=x.percent(e.volume_share),
                      share=share, lift=x.signed(e.lift, 3))


def _row(x: _Texts, report: ScanReport, row: ScanRow) -> RowView:
    s = row.scan
    return RowView(
        rank=row.rank, project_id=row.project_id, title=row.title, owner=row.owner, code=s.code,
        label=s.label_nl if x.language == "nl" else s.label_en, lift=x.signed(s.expected_lift),
        unit=x.t(f"improvement.unit.{report.outcome}"), interval=_interval(x, report, row.low, row.high),
        cost=None if row.cost is None else "€\u00a0" + x.number(row.cost, 0),
        per_1000=None if row.lift_per_1000 is None else x.signed(row.lift_per_1000, 3),
        why=why_sentence(row.why, x.language, x.catalogue), capped=row.capped,
        targets=[_target(x, part) for part in row.targets])


def present(report: ScanReport, language: str = "nl", catalogue: Catalogue | None = None) -> Summary:
    """The scan's texts in one language, ready for the page, the PDF and the CSV."""
    x = _Texts(language, catalogue)
    top = x.norm(report.scale[1])
    current = x.number(report.current, 2) if report.current is not None else "–"
    return Summary(
        rows=[_row(x, report, row) for row in report.rows],
        has_cost=any(row.cost for row in report.rows),
        unit=x.t(f"improvement.unit.{report.outcome}"),
        method=x.t("improvement.method", top=top, current=current,
                   confidence=x.number(100 * report.confidence, 0)),
        over_scale=x.t("improvement.over_scale", top=top, current=current) if report.over_scale else None,
    )


CSV_COLUMNS = ("project_id", "title", "rank", "owner", "cost", "class", "expected_lift", "lift_low", "lift_high",
               "unit", "lift_per_1000_cost", "why", "reasoning")


def scan_table(report: ScanReport, language: str = "nl", catalogue: Catalogue | None = None) -> list[list]:
    """The scan's rows (one per project, in rank order, columns ``CSV_COLUMNS``): figures as numbers, texts in
    the language."""
    x = _Texts(language, catalogue)
    unit = x.t(f"improvement.unit.{report.outcome}")
    rows = []
    for row in report.rows:
        s = row.scan
        rows.append([row.project_id, row.title, row.rank, row.owner or "", row.cost,
                     s.label_nl if language == "nl" else s.label_en, round(s.expected_lift, 3),
                     None if row.low is None else round(row.low, 3), None if row.high is None else round(row.high, 3),
                     unit, None if row.lift_per_1000 is None else round(row.lift_per_1000, 4),
                     why_sentence(row.why, language, x.catalogue),
                     s.reasoning_nl if language == "nl" else s.reasoning_en])
    return rows


def scan_csv(report: ScanReport, language: str = "nl", catalogue: Catalogue | None = None) -> str:
    """The scan as CSV for a spreadsheet in the language (Dutch: ``;`` and decimal commas), none of its texts
    taken for a formula (titles and owners are anyone's input)."""
    return csv_text(CSV_COLUMNS, scan_table(report, language, catalogue), language)


def scan_xlsx(report: ScanReport, language: str = "nl", catalogue: Catalogue | None = None) -> bytes:
    return xlsx_bytes(CSV_COLUMNS, scan_table(report, language, catalogue), sheet="scan")


def scan_html(report: ScanReport, *, language: str = "nl", organisation: str = "") -> str:
    x = _Texts(language)
    return template_environment().get_template("improvement/scan_report.html").render(
        report=report, summary=present(report, language, x.catalogue), lang=language, organisation=organisation,
        t=x.t, number=x.number)


def scan_pdf(report: ScanReport, **kwargs) -> bytes:
    from weasyprint import HTML

    return HTML(string=scan_html(report, **kwargs)).write_pdf()
