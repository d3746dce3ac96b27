from __future__ import annotations

import pytest

from servicepulse.kernels.forecast import ResolutionForecaster

from .synthetic import FAST, make_log


@pytest.fixture(scope="session")
def deterministic_log():
    return make_log(400, sigma=0.0, seed=1, with_channel=True)


@pytest.fixture(scope="session")
def fitted_deterministic(deterministic_log):
    return ResolutionForecaster(**FAST).fit(deterministic_log)
