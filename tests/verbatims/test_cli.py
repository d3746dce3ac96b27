"""`servicepulse verbatims analyse` and the code frame as a file, through the real CLI entry point."""

from __future__ import annotations

from sqlalchemy import func, select

from servicepulse.db.session import UnitOfWork
from servicepulse.models import Job, Verbatim, VerbatimCodeFrame
from tests.cli.conftest import cli, url_of  # noqa: F401  (fixture)

from .conftest import add_responses


def test_analyse_and_codeframe_round_trip(engine, cli, tmp_path):  # noqa: F811
    add_responses(engine, [{"comment": "De factuur was onduidelijk", "nps": 4},
                           {"comment": "Snel geholpen, top!", "nps": 9}])
    run = cli(url_of(engine), "verbatims", "analyse", "--workers", "1")
    assert run.code == 0, run.err
    assert "2 comments analysed" in run.out
    with UnitOfWork(engine) as s:
        assert s.scalar(select(func.count()).select_from(Verbatim)) == 2

    out = tmp_path / "frame.yaml"
    assert cli(url_of(engine), "verbatims", "codeframe", "export", str(out)).code == 0
    text = out.read_text(encoding="utf-8")
    assert "invoice_clarity" in text
    out.write_text(text.replace("invoice_clarity:", "invoice_clarity_renamed:", 1), encoding="utf-8")
    run = cli(url_of(engine), "verbatims", "codeframe", "import", str(out))
    assert run.code == 0, run.err
    with UnitOfWork(engine) as s:
        assert "invoice_clarity_renamed" in s.scalar(select(VerbatimCodeFrame.yaml))
        assert s.scalar(select(Job.payload).where(Job.kind == "verbatims.analyse")) == {"reanalyse": True}

    bad = tmp_path / "bad.yaml"
    bad.write_text("themes:\n  price:\n    labels: {nl: Prijs, en: Price}\n    parent: nowhere\n", encoding="utf-8")
    run = cli(url_of(engine), "verbatims", "codeframe", "import", str(bad))
    assert run.code != 0 and "error:" in run.err and "nowhere" in run.err and "Traceback" not in run.err
