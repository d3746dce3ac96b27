"""`servicepulse forecast train --evaluate FILE`: the protocol's table for a user's own log."""

from __future__ import annotations

from pathlib import Path

import pytest

HELPDESK = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "eventlogs" / "helpdesk.xes.gz"


def test_evaluate_prints_the_protocol_table(cli):
    if not HELPDESK.is_file():
        pytest.skip(f"reference data not found at {HELPDESK}")
    # No database is needed: the log is read from the file, nothing is saved.
    code, out, err = cli(None, "forecast", "train", "--evaluate", str(HELPDESK), "--timezone", "Europe/Rome",
                         "--seeds", "1", "--max-rounds", "40")
    assert code == 0, err
    assert "newest 20% of 4580 cases" in out
    for column in ("MAE (days)", "80% coverage", "baseline MAE", "fit (s)", "predict (ms/prefix)"):
        assert column in out, out
    assert "2579" in out  # Helpdesk's test prefixes (lengths 2..n-1 of the newest 916 cases)
    assert "Chosen on the validation cases" in out


def test_evaluate_refuses_a_file_it_cannot_read(cli, tmp_path):
    bad = tmp_path / "log.csv"
    bad.write_text("nothing,useful\n1,2\n")
    code, out, err = cli(None, "forecast", "train", "--evaluate", str(bad))
    assert code != 0 and "Traceback" not in err
