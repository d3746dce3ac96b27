"""Benchmarks (#19 item 6): the shipped table holds only openly licensed, cited figures; an installation adds its
own in the same format; the metrics overview shows the newest per figure and sector with source and licence."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from servicepulse.app import create_app
from servicepulse.errors import ConfigurationError
from servicepulse.metrics import benchmarks
from servicepulse.settings import Settings

from ..web.conftest import fast_password_hashing, login, make_user  # noqa: F401
from .conftest import build_small

OGL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
OWN = """
benchmarks:
  - metric: grade
    value: 7.4
    year: "2025"
    sector: {nl: "Eigen regio", en: "Own region"}
    source: "Regional survey 2025"
    publisher: "Example region"
    url: "https://example.org/survey-2025"
    licence: "CC BY 4.0"
    licence_url: "https://creativecommons.org/licenses/by/4.0/"
    note: {nl: "Gemiddeld rapportcijfer van 1.200 bewoners.", en: "Mean grade of 1,200 residents."}
"""


def test_the_shipped_table_is_cited_and_openly_licensed():
    table = benchmarks.load()
    assert table.entries, "the shipped table is empty"
    for entry in table.entries:
        assert entry.url.startswith("https://www.gov.uk/government/publications/")
        assert (entry.licence, entry.licence_url) == ("Open Government Licence v3.0", OGL)
    # the figures as published: DWP Customer Experience Survey, 'Satisfied' at a glance
    assert {(e.year, e.value) for e in table.entries} == {("2024/25", 87.0), ("2023/24", 85.0)}
    assert [(b.metric, b.year) for b in table.latest()] == [("csat_top2", "2024/25")]


@pytest.mark.parametrize(("change", "problem"), [
    (("licence: \"CC BY 4.0\"", ""), "'licence' is required"),
    (("metric: grade", "metric: happiness"), "'metric' must be one of"),
    (("value: 7.4", "value: 74"), "'value' must be a number from 1 to 10"),
    (("url: \"https://example.org/survey-2025\"", "url: \"example.org\""), "'url' must be a web address"),
    (("sector: {nl: \"Eigen regio\", en: \"Own region\"}", "sector: {nl: \"Eigen regio\"}"), "'sector' needs a text"),
])
def test_an_entry_without_what_makes_it_citable_is_refused(change, problem):
    with pytest.raises(ConfigurationError, match=re.escape(problem)) as refused:
        benchmarks.parse(OWN.replace(*change), "own.yaml")
    assert "own.yaml, entry 1" in str(refused.value)


def test_an_installations_own_table_shows_beside_the_shipped_one(engine, tmp_path, make_user):
    own = tmp_path / "own.yaml"
    own.write_text(OWN, encoding="utf-8")
    settings = Settings(secret_key="bench-" + "x" * 40, data_dir=tmp_path, benchmarks_file=str(own))
    build_small(engine)  # answers with grades and CSAT: a benchmark sits beside a figure the page has
    make_user("ana@example.org", role="analyst", language="nl")
    with TestClient(create_app(engine, settings)) as client:
        assert login(client, "ana@example.org").status_code == 303
        html = client.get("/metrics").text
    assert "Ter vergelijking" in html
    assert re.search(r'data-benchmark="grade">Rapportcijfer: 7,4 bij Eigen regio, 2025\. Bron:', html)
    assert re.search(r'data-benchmark="csat_top2">[^<]*: 87% bij Britse overheid: uitkeringen \(DWP\), 2024/25', html)
    assert 'href="https://www.gov.uk/government/publications/dwp-customer-experience-survey-benefit-customers-2024' in html
    assert html.count('data-benchmark="csat_top2"') == 1  # the newest only
    with pytest.raises(ConfigurationError, match="SERVICEPULSE_BENCHMARKS_FILE"):
        create_app(engine, Settings(secret_key="x" * 40, data_dir=tmp_path, benchmarks_file=str(tmp_path / "no.yaml")))


def test_english_overview_line(engine, tmp_path, make_user):
    build_small(engine)
    make_user("en@example.org", role="analyst", language="en")
    with TestClient(create_app(engine, Settings(secret_key="x" * 40, data_dir=tmp_path))) as client:
        assert login(client, "en@example.org").status_code == 303
        html = client.get("/metrics").text
    assert "For comparison" in html
    assert re.search(r'data-benchmark="csat_top2">[^<]*: 87% at UK government: benefits \(DWP\), 2024/25\. Source:', html)
    assert "Open Government Licence v3.0" in html


def test_no_benchmark_beside_a_figure_without_answers(engine, tmp_path, make_user):
    """Sweep H3-D: no reference value beside "too few answers (n = 0)"."""
    make_user("ana@example.org", role="analyst", language="nl")
    with TestClient(create_app(engine, Settings(secret_key="x" * 40, data_dir=tmp_path))) as client:
        assert login(client, "ana@example.org").status_code == 303
        html = client.get("/metrics").text
    assert "data-benchmark=" not in html and "Ter vergelijking" not in html
