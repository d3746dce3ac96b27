"""The 7+/9+ project scan as people read it: the ranked summary (one partial for the page and the PDF), one
sentence of why per project, effects in the compass's unit (NPS points or grade points) with their interval, the
base and the joint effect of all projects, and the CSV and PDF (HTML -> WeasyPrint): the same numbers as the
page."""

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
    among: str  # the effect among the customers the target reaches (the compass's number for a moment)
    lift: str


@dataclass(frozen=True)
class RowView:
    rank: int
    project_id: int
    title: str
    owner: str | None
    code: str  # 7plus, 9plus, little_potential
    label: str
    lift: str  # "+4,9"
    unit: str  # "NPS-punten" (the compass's words)
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
    method: str  # how the figures are made: over all customers, sharing, the norm, the interval
    base: str  # "NPS nu: 2 (2.599 antwoorden)": the figure /metrics shows for the period
    joint: str | None  # all projects together, and what every moment at its norm would give
    measure: str


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
    """The compass's words for the unit: NPS points or grade points."""
    return _Texts(language, catalogue).t(f"investment.compass.measure.{report.measure}")


def _digits(report: ScanReport) -> int:
    return 1 if report.measure == "nps" else 2


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
    d = _digits(report)
    return x.t("improvement.interval", confidence=x.number(100 * report.confidence, 0), low=x.signed(low, d),
               high=x.signed(high, d))


def _target(x: _Texts, report: ScanReport, part: TargetLift) -> TargetView:
    e = part.effect
    share = "100%" if part.projects == 1 else x.t("improvement.shared", share=x.percent(part.share),
                                                   projects=part.projects)
    return TargetView(name=e.moment, kind=e.kind, score=x.number(e.score), norm="–" if e.kind == "driver" else x.norm(e.norm),
                      counted=x.percent(e.counted) if e.kind == "driver" else x.number(e.counted, 2),
                      slope=x.number(e.slope, _digits(report)), volume=x.percent(e.volume_share), share=share,
                      among=x.signed(part.among, _digits(report)), lift=x.signed(e.lift, _digits(report)))


def _row(x: _Texts, report: ScanReport, row: ScanRow) -> RowView:
    s = row.scan
    return RowView(
        rank=row.rank, project_id=row.project_id, title=row.title, owner=row.owner, code=s.code,
        label=s.label_nl if x.language == "nl" else s.label_en, lift=x.signed(s.expected_lift, _digits(report)),
        unit=unit_text(report, x.language, x.catalogue), interval=_interval(x, report, row.low, row.high),
        cost=None if row.cost is None else "€\u00a0" + x.number(row.cost, 0),
        per_1000=None if row.lift_per_1000 is None else x.signed(row.lift_per_1000, _digits(report) + 1),
        why=why_sentence(row.why, x.language, x.catalogue), capped=row.capped,
        targets=[_target(x, report, part) for part in row.targets])


def base_text(report: ScanReport, language: str = "nl", catalogue: Catalogue | None = None) -> str:
    """Where the measure stands now over all respondents: the figure /metrics shows (NPS whole, grade one
    decimal)."""
    x = _Texts(language, catalogue)
    if report.base is None:
        return x.t(f"improvement.base_unknown.{report.measure}")
    digits = 0 if report.measure == "nps" else 1
    return x.t(f"improvement.base.{report.measure}", value=x.number(report.base, digits),
               n=x.number(report.base_n, 0))


def present(report: ScanReport, language: str = "nl", catalogue: Catalogue | None = None) -> Summary:
    """The scan's texts in one language, ready for the page, the PDF and the CSV."""
    x = _Texts(language, catalogue)
    d = _digits(report)
    joint = None
    if report.rows:
        joint = x.t("improvement.joint", lift=x.signed(report.joint, d), unit=unit_text(report, language, x.catalogue),
                    interval=_interval(x, report, report.joint_low, report.joint_high),
                    potential=x.signed(report.potential, d))
        if report.joint_capped:
            joint += " " + x.t("improvement.joint_capped", top=x.number(report.scale[1], 0))
    return Summary(
        rows=[_row(x, report, row) for row in report.rows],
        has_cost=any(row.cost for row in report.rows),
        unit=unit_text(report, language, x.catalogue),
        method=x.t(f"improvement.method.{report.measure}", confidence=x.number(100 * report.confidence, 0)),
        base=base_text(report, language, x.catalogue), joint=joint, measure=report.measure,
    )


CSV_COLUMNS = ("project_id", "title", "rank", "owner", "cost", "class", "expected_lift", "lift_low", "lift_high",
               "unit", "base", "lift_per_1000_cost", "why", "reasoning")


def scan_table(report: ScanReport, language: str = "nl", catalogue: Catalogue | None = None) -> list[list]:
    """The scan's rows (one per project, in rank order, columns ``CSV_COLUMNS``): figures as numbers, texts in
    the language."""
    x = _Texts(language, catalogue)
    unit = unit_text(report, language, x.catalogue)
    base = None if report.base is None else round(report.base, 2)
    rows = []
    for row in report.rows:
        s = row.scan
        rows.append([row.project_id, row.title, row.rank, row.owner or "", row.cost,
                     s.label_nl if language == "nl" else s.label_en, round(s.expected_lift, 3),
                     None if row.low is None else round(row.low, 3), None if row.high is None else round(row.high, 3),
                     unit, base, None if row.lift_per_1000 is None else round(row.lift_per_1000, 4),
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
