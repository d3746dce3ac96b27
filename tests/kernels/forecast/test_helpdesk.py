"""The forecaster on the real Helpdesk log, by the literature's protocol.

Marked slow: one fit takes 10 s on an idle 2-core machine but over a minute when shared.

The full table with the published figures is printed by bench/forecast_helpdesk.py.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from servicepulse.kernels.forecast import ResolutionForecaster
from servicepulse.kernels.forecast.evaluation import (
    chronological_case_split,
    interval_coverage,
    mae_days,
    make_prefixes,
    mean_by_prefix_length,
    rolling_forecast,
)
from servicepulse.kernels.forecast.recalibration import RecalibrationWindow

LOG = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "eventlogs" / "helpdesk.xes.gz"


@pytest.fixture(scope="module")
def helpdesk():
    if not LOG.is_file():
        pytest.skip(f"reference data not found at {LOG}")
    pm4py = pytest.importorskip("pm4py")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = pm4py.read_xes(str(LOG), show_progress_bar=False)
    return raw.rename(
        columns={
            "case:concept:name": "case_id",
            "concept:name": "activity",
            "time:timestamp": "timestamp",
            "org:resource": "resource",
        }
    )[["case_id", "activity", "timestamp", "resource"]]


@pytest.mark.slow
def test_helpdesk_test_prefixes(helpdesk):
    train, valid, test = chronological_case_split(helpdesk)
    assert (len(train), len(valid), len(test)) == (2931, 733, 916)
    prefixes, truth = make_prefixes(helpdesk[helpdesk["case_id"].isin(test)], min_length=2)
    forecaster = ResolutionForecaster(timezone="Europe/Rome").fit(
        helpdesk[helpdesk["case_id"].isin(train.append(valid))]
    )
    # The forecaster held out exactly the validation cases (its most recent 20%).
    assert forecaster.training_report["calibration_cases"] == len(valid)
    forecast = forecaster.predict(prefixes)
    mae = mae_days(forecast["remaining_s"], truth["remaining_s"])
    baseline = mae_days(mean_by_prefix_length(helpdesk[helpdesk["case_id"].isin(train)], truth), truth["remaining_s"])
    # Published: GGNN 4.80, PGTNet 5.41, ProcessTransformer 5.42, DALSTM 12.90 days.
    # This model scores 4.74-4.79 depending on the seed: below GGNN, but by too little
    # for seed 0 (0.006 days) to assert it, so the bound asserted is "better than
    # every other published model".
    assert mae < 5.0, mae
    assert mae < 0.5 * baseline, (mae, baseline)
    coverage = interval_coverage(forecast, truth["remaining_s"])
    assert 0.70 <= coverage <= 0.90, coverage
    # With the nightly recalibration (window chosen on validation, bench part 1b) the
    # interval follows the test period's new closing rule: the 75-85% target.
    rolled = rolling_forecast(forecaster, prefixes, helpdesk, RecalibrationWindow(), "Europe/Rome")
    assert 0.75 <= interval_coverage(rolled, truth["remaining_s"]) <= 0.85
