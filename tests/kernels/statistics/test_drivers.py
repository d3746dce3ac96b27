import itertools
import math

import numpy as np
import pandas as pd
import pytest

from servicepulse.kernels.statistics import (
    DriverAnalysisError,
    dominance,
    dominance_result,
    driver_slopes,
    relative_weights,
    relative_weights_result,
)

from ._data import REFERENCE


@pytest.fixture(scope="module")
def mtcars():
    return pd.read_csv(REFERENCE / "mtcars.csv")


@pytest.fixture(scope="module")
def attitude():
    return pd.read_csv(REFERENCE / "attitude.csv")


def _r2(x: np.ndarray, y: np.ndarray) -> float:
    design = np.column_stack([np.ones(len(y)), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    return 1 - resid @ resid / ((y - y.mean()) @ (y - y.mean()))


def test_relative_weights_published_mtcars(mtcars):
    # Johnson's relative weights, mpg ~ cyl + disp + hp + gear (reference README)
    weights = relative_weights(mtcars[["cyl", "disp", "hp", "gear"]], mtcars["mpg"])
    expected = {"cyl": 0.2284797, "disp": 0.2221469, "hp": 0.2321744, "gear": 0.0963886}
    for name, value in expected.items():
        assert weights[name] == pytest.approx(value, abs=5e-5)
    assert weights.attrs["r2"] == pytest.approx(0.7791896, abs=5e-7)
    assert sum(weights.attrs["rescaled_pct"].values()) == pytest.approx(100)
    assert weights.attrs["n"] == 32 and weights.attrs["dropped_rows"] == 0


def test_dominance_published_mtcars(mtcars):
    # general dominance / Shapley / LMG, mpg ~ am + vs + cyl (reference README)
    weights = dominance(mtcars[["am", "vs", "cyl"]], mtcars["mpg"])
    expected = {"am": 0.1774892, "vs": 0.2027032, "cyl": 0.3817849}
    for name, value in expected.items():
        assert weights[name] == pytest.approx(value, abs=5e-5)
    assert weights.attrs["r2"] == pytest.approx(0.7619773, abs=5e-7)


def test_dominance_published_attitude(attitude):
    drivers = ["complaints", "privileges", "learning", "raises", "critical", "advance"]
    weights = dominance(attitude[drivers], attitude["rating"])
    expected = {"complaints": 0.371, "learning": 0.156, "raises": 0.120,
                "privileges": 0.051, "advance": 0.028, "critical": 0.007}
    for name, value in expected.items():
        assert round(weights[name], 3) == value
    assert round(weights.attrs["r2"], 3) == 0.733


def test_dominance_against_shapley_over_all_orders(mtcars):
    # independent: Shapley value by averaging each driver's R2 increment over all 4! entry orders,
    # with every R2 from a least-squares fit on the raw data.
    names = ["cyl", "disp", "hp", "gear"]
    x, y = mtcars[names].to_numpy(float), mtcars["mpg"].to_numpy(float)
    shapley = dict.fromkeys(names, 0.0)
    orders = list(itertools.permutations(range(4)))
    for order in orders:
        previous, chosen = 0.0, []
        for j in order:
            chosen.append(j)
            current = _r2(x[:, chosen], y)
            shapley[names[j]] += (current - previous) / len(orders)
            previous = current
    weights = dominance(mtcars[names], mtcars["mpg"])
    for name in names:
        assert weights[name] == pytest.approx(shapley[name], abs=1e-10)


def test_relative_weights_against_svd_construction(attitude):
    # independent route: orthogonal Z closest to standardised X via the SVD of the data,
    # regress y on Z and X on Z (Johnson 2000, eqs. 1-4).
    drivers = ["complaints", "privileges", "learning", "raises", "critical", "advance"]
    x = attitude[drivers].to_numpy(float)
    y = attitude["rating"].to_numpy(float)
    xs = (x - x.mean(0)) / x.std(0, ddof=1)
    ys = (y - y.mean()) / y.std(ddof=1)
    u, _, vt = np.linalg.svd(xs, full_matrices=False)
    z = u @ vt * math.sqrt(len(y) - 1)  # unit-variance orthogonal columns
    beta, *_ = np.linalg.lstsq(z, ys, rcond=None)
    lam, *_ = np.linalg.lstsq(z, xs, rcond=None)  # lam[k, j]: weight of z_k for x_j
    expected = (lam.T ** 2) @ (beta ** 2)
    weights = relative_weights(attitude[drivers], attitude["rating"])
    assert weights.to_numpy() == pytest.approx(expected, abs=1e-10)
    assert weights.sum() == pytest.approx(_r2(x, y), abs=1e-10)


def test_twelve_drivers_sum_to_full_r2_and_agree_on_order():
    rng = np.random.default_rng(2)
    n, p = 400, 12
    latent = rng.normal(size=(n, 1))
    x = 0.6 * latent + rng.normal(size=(n, p))
    true = np.linspace(0.0, 1.1, p)
    y = x @ true + rng.normal(scale=2.0, size=n)
    frame = pd.DataFrame(x, columns=[f"moment {i}" for i in range(p)])
    result = dominance_result(frame, pd.Series(y))
    assert result.weights.sum() == pytest.approx(_r2(x, y), abs=1e-10)
    assert result.r2 == pytest.approx(_r2(x, y), abs=1e-10)
    assert result.rescaled_pct.sum() == pytest.approx(100)
    rw = relative_weights_result(frame, pd.Series(y))
    assert rw.r2 == pytest.approx(result.r2)
    # the two methods are known to agree closely (Johnson 2000; LeBreton et al. 2004)
    assert np.abs(rw.weights - result.weights).max() < 0.01
    assert result.weights.idxmax() == "moment 11"


def test_missing_rows_are_dropped_and_counted(mtcars):
    frame = mtcars[["cyl", "disp", "hp"]].copy()
    frame.loc[[0, 5], "hp"] = np.nan
    outcome = mtcars["mpg"].copy()
    outcome[7] = np.nan
    weights = relative_weights(frame, outcome)
    assert weights.attrs["dropped_rows"] == 3 and weights.attrs["n"] == 29
    keep = frame.notna().all(axis=1) & outcome.notna()
    clean = relative_weights(frame[keep], outcome[keep])
    assert weights.to_numpy() == pytest.approx(clean.to_numpy())


@pytest.mark.parametrize("function", [relative_weights, dominance, driver_slopes])
@pytest.mark.parametrize(
    "make, fragment",
    [
        (lambda m: (m[["cyl", "disp"]].assign(fee=5.0), m["mpg"]), "without variance .*'fee'"),
        (lambda m: (m[["cyl", "disp", "hp"]].assign(combo=2 * m["disp"] - m["hp"]), m["mpg"]),
         "perfectly collinear drivers: .*'combo'"),
        (lambda m: (m[["cyl", "disp", "hp", "gear"]].head(5), m["mpg"].head(5)),
         "too few complete rows for 4 drivers: need at least 6, have 5"),
        (lambda m: (m[["cyl"]].iloc[:0], m["mpg"].iloc[:0]), "no rows"),
        (lambda m: (m[[]], m["mpg"]), "no drivers given"),
        (lambda m: (m[["cyl", "model"]], m["mpg"]), "driver 'model' must hold numbers; row 0 has 'Mazda RX4'"),
        (lambda m: (m[["cyl", "disp"]], m["mpg"] * 0 + 20), "outcome has no variance"),
        (lambda m: (m[["cyl", "disp"]].assign(hp=np.nan), m["mpg"]), "no complete rows"),
    ],
    ids=["flat", "collinear", "few-rows", "empty", "no-columns", "text", "flat-outcome", "all-missing"],
)
def test_bad_input_gets_a_human_message(mtcars, function, make, fragment):
    x, y = make(mtcars)
    with pytest.raises(DriverAnalysisError, match=fragment):
        function(x, y)


def test_driver_error_is_a_value_error():
    assert issubclass(DriverAnalysisError, ValueError)


def test_driver_slopes_against_published_r_summary(attitude):
    # R: summary(lm(rating ~ ., data = attitude)) (the attitude help page example)
    drivers = ["complaints", "privileges", "learning", "raises", "critical", "advance"]
    table = driver_slopes(attitude[drivers], attitude["rating"])
    published = {
        "complaints": (0.61319, 0.16098, 0.000903),
        "privileges": (-0.07305, 0.13572, 0.595594),
        "learning": (0.32033, 0.16852, 0.069925),
        "raises": (0.08173, 0.22148, 0.715480),
        "critical": (0.03838, 0.14700, 0.796334),
        "advance": (-0.21706, 0.17821, 0.235577),
    }
    for name, (slope, se, p) in published.items():
        assert table.loc[name, "slope"] == pytest.approx(slope, abs=5e-6)
        assert table.loc[name, "se"] == pytest.approx(se, abs=5e-6)
        assert table.loc[name, "p_value"] == pytest.approx(p, abs=5e-7)
    assert round(table.attrs["r2"], 4) == 0.7326
