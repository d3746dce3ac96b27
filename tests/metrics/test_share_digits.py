"""A share and its interval in whole percents, with one decimal where whole percents would claim false certainty
(sweep: "Aandeel 9 of hoger 0% (0 – 0%)" for 0 of 926 answers, whose Wilson interval is 0 – 0,4%)."""

from __future__ import annotations

import re

import pytest

from servicepulse.http.templating import format_number, template_environment
from servicepulse.kernels.statistics import wilson


def _share(successes: int, n: int) -> str:
    env = template_environment()
    page = env.from_string('{% import "metrics/_macros.html" as m with context %}{{ m.share(r) }}')
    html = page.render(r=wilson(successes, n, 0.95, min_n=30), t=lambda key, **v: key,
                       number=lambda value, digits=1: format_number(value, "nl", digits))
    return re.sub(r"<[^>]+>", "", html)


@pytest.mark.parametrize("successes,n,expected", [
    (0, 926, "0,0% (0,0 – 0,4%)"),  # the interval's upper end is 0,41%
    (926, 926, "100,0% (99,6 – 100,0%)"),
    (463, 926, "50% (47 – 53%)"),  # nothing near 0 or 100: whole percents
])
def test_share_digits(successes, n, expected):
    low, high = wilson(successes, n, 0.95, min_n=30).low, wilson(successes, n, 0.95, min_n=30).high
    # the bounds themselves, independently: Wilson's score interval with z = 1.96
    z = 1.959964
    p = successes / n
    centre, half = (p + z * z / (2 * n)), z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5)
    assert low == pytest.approx(max(0.0, (centre - half) / (1 + z * z / n)), abs=1e-6)
    assert high == pytest.approx(min(1.0, (centre + half) / (1 + z * z / n)), abs=1e-6)
    assert _share(successes, n) == expected
