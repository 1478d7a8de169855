"""Plots a scientist would publish: the group plot's x axis, normalised
residuals, log axes and error bars, labelled histograms that outliers cannot
squeeze, status counts on a log scale, worst fits by a brightness-free
measure, and parameter maps. Each figure is rendered with Agg and its
content checked against numbers computed here."""

import jax.numpy as jnp
import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.container import ErrorbarContainer  # noqa: E402

import batchfit as bf  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def line_model(x, a, b):
    return a * x + b


def gauss(x, amp, cen, sig):
    return amp * jnp.exp(-((x - cen) ** 2) / (2 * sig**2))


def test_group_plot_draws_against_x_not_the_first_per_dataset_variable():
    x = np.linspace(1, 10, 40)
    eff = np.stack([np.linspace(5, 1, 40), np.linspace(4, 2, 40)])
    m = bf.Model(lambda x, eff, c, a: c * eff * a / x, independent_vars=["x", "eff"])
    y = np.stack([1.0, 1.1])[:, None] * eff * 3 / x
    r = m.fit(y, m.make_params(c=1, a=2), x=x, eff=eff, shared=["a"])
    fig = r.plot()
    ax, axr = fig.axes
    assert axr.get_xlabel() == "x"
    for k in range(2):
        np.testing.assert_array_equal(ax.lines[2 * k].get_xdata(), x)  # data, sorted by x
        np.testing.assert_array_equal(ax.lines[2 * k].get_ydata(), y[k])
        # the model line is monotonic in x: no zigzag
        best = ax.lines[2 * k + 1].get_ydata()
        np.testing.assert_allclose(best, r.best_fit[k], rtol=1e-12)
        assert np.all(np.diff(best) < 0)


def test_group_member_plots_its_own_group_with_error_bars_log_axes_and_normalised_residuals():
    x = np.geomspace(1, 100, 30)
    rng = np.random.default_rng(4)
    sd = 0.02 * np.ones((2, 2, 30))
    y = np.stack([np.stack([2 * x + 1, 2 * x + 3]), np.stack([3 * x + 1, 3 * x + 5])])
    y = y + sd * rng.normal(size=y.shape)
    model = bf.Model(line_model)
    r = model.fit(y, model.make_params(a=1, b=0), x=x, shared=["a"], weights=1 / sd)
    fig = r[1].plot(normalize=True, xscale="log", yscale="log")
    ax, axr = fig.axes
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    eb = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(eb) == 2  # one per dataset
    np.testing.assert_array_equal(eb[1].lines[0].get_ydata(), y[1, 1])  # group 1, not group 0
    seg = eb[0].lines[2][0].get_segments()
    np.testing.assert_allclose([s[1, 1] - s[0, 1] for s in seg], 2 * sd[1, 0], rtol=1e-12)
    assert axr.get_ylabel() == "(data - model)/σ"
    a, b = r[1].params["a"].value, r[1].params["b"].value[1]
    np.testing.assert_allclose(axr.lines[1].get_ydata(), (y[1, 1] - (a * x + b)) / sd[1, 1], atol=1e-6)
    with pytest.raises(ValueError, match="xscale must be 'linear', 'log' or 'symlog'"):
        r[0].plot(xscale="logarithmic")


def test_single_plot_normalised_residuals_weighted_and_unweighted():
    rng = np.random.default_rng(5)
    x = np.linspace(0, 4, 50)
    sd = np.linspace(0.05, 0.2, 50)
    y = 2 * x + 1 + sd * rng.normal(size=50)
    model = bf.Model(line_model)
    r = model.fit(y, model.make_params(a=1, b=0), x=x, weights=1 / sd)
    fig = r.plot(normalize=True)
    axr = fig.axes[1]
    A = np.column_stack([x / sd, 1 / sd])
    a, b = np.linalg.lstsq(A, y / sd, rcond=None)[0]
    np.testing.assert_allclose(axr.lines[1].get_ydata(), (y - (a * x + b)) / sd, atol=1e-8)
    assert axr.get_ylabel() == "(data - model)/σ"
    r0 = model.fit(y, model.make_params(a=1, b=0), x=x)
    a0, b0 = np.polyfit(x, y, 1)
    res = y - (a0 * x + b0)
    s = np.sqrt(np.sum(res**2) / (50 - 2))
    np.testing.assert_allclose(r0.plot(normalize=True).axes[1].lines[1].get_ydata(), res / s, atol=1e-8)


@pytest.fixture(scope="module")
def bright_batch():
    """Unweighted Gaussians whose noise grows with brightness (bright fits
    are good, their reduced chi-square large), plus two real misfits."""
    rng = np.random.default_rng(6)
    N, x = 40, np.linspace(-5, 5, 60)
    amp = np.geomspace(1, 1000, N)
    y = amp[:, None] * np.exp(-(x**2) / 2) + 0.05 * np.sqrt(amp)[:, None] * rng.normal(size=(N, 60))
    y[7] += 2.0 * np.exp(-((x - 3) ** 2) / 0.5)  # a second line the model misses
    y[13] += 1.5 * np.sin(x)
    model = bf.Model(gauss)
    res = model.fit(y, model.make_params(amp=dict(value=50, min=0), cen=0.1, sig=1.2), x=x)
    return res, y, x


def test_worst_fits_are_the_misfits_not_the_brightest(bright_batch):
    res, y, x = bright_batch
    assert np.all(res.success)
    assert set(np.argsort(-res.redchi)[:2]) == {38, 39}  # raw redchi picks the brightest good fits
    fig = res.plot_batch(n_worst=2)
    titles = [ax.get_title() for ax in fig.axes][-2:]
    picked = {int(t.split(":")[0].split()[1]) for t in titles}
    assert picked == {7, 13}
    # the measure: von Neumann's ratio of the residuals, from the fitted curve
    p = res.params
    best = np.stack([p["amp"].value[i] * np.exp(-((x - p["cen"].value[i]) ** 2) / (2 * p["sig"].value[i] ** 2))
                     for i in range(len(res))])
    r = best - y
    score = np.mean(r**2, axis=1) / (0.5 * np.mean(np.diff(r, axis=1) ** 2, axis=1))
    np.testing.assert_allclose(bf.report._plot_batch.misfit_score(res), score, rtol=1e-6)
    assert set(np.argsort(-score)[:2]) == {7, 13}
    good = np.delete(score, [7, 13])
    assert 0.7 < np.median(good) < 1.4 and good.max() < 2 < min(score[7], score[13])


def test_histograms_name_their_parameter_and_ignore_far_outliers():
    rng = np.random.default_rng(8)
    x = np.linspace(0, 1, 20)
    slopes = 2 + 0.01 * rng.normal(size=200)
    slopes[:3] = [500.0, -400.0, 900.0]  # outliers
    data = slopes[:, None] * x + 1 + 0.001 * rng.normal(size=(200, 20))
    model = bf.Model(line_model)
    res = model.fit(data, model.make_params(a=1, b=0), x=x)
    fig = res.plot_batch(n_worst=0, bins=20)
    ax = fig.axes[0]
    assert (ax.get_title(), ax.get_xlabel()) == ("a", "a")
    a = res.params["a"].value
    q1, q3 = np.percentile(a, [25, 75])
    lo, hi = max(a.min(), q1 - 5 * (q3 - q1)), min(a.max(), q3 + 5 * (q3 - q1))
    heights = [p.get_height() for p in ax.patches]
    np.testing.assert_array_equal(heights, np.histogram(a, bins=20, range=(lo, hi))[0])
    assert sum(heights) == 197
    assert hi - lo < 0.2  # the bulk, not [-400, 900]
    assert "3 beyond range" in [t.get_text() for t in ax.texts]


def test_status_counts_on_a_log_scale_show_one_failure_among_many():
    x = np.linspace(0, 1, 10)
    data = np.outer(np.linspace(1, 2, 500), x) + 1
    data[17] = np.nan
    model = bf.Model(line_model)
    res = model.fit(data, model.make_params(a=1, b=0), x=x, nan_policy="propagate")
    fig = res.plot_batch(n_worst=1)
    st = fig.axes[3]
    assert st.get_yscale() == "log"
    counts = res.summary_counts()
    assert [p.get_height() for p in st.patches] == list(counts.values())
    assert min(counts.values()) == 1 and [t.get_text() for t in st.texts] == [str(v) for v in counts.values()]
    assert fig.axes[-1].get_title().startswith("fit 17:")  # the failed fit is shown first


def test_parameter_map_with_colour_bar_and_failed_fits_blank():
    ny, nx = 4, 5
    x = np.linspace(0, 1, 12)
    slope = np.arange(ny * nx, dtype=float)
    data = slope[:, None] * x + 2
    data[6] = np.nan
    model = bf.Model(line_model)
    res = model.fit(data, model.make_params(a=1, b=0), x=x, nan_policy="propagate")
    fig = res.plot_map("a", shape=(ny, nx))
    ax, cax = fig.axes
    img = ax.images[0].get_array()
    assert img.shape == (ny, nx) and bool(img.mask[1, 1]) and int(img.mask.sum()) == 1
    expect = slope.reshape(ny, nx)
    np.testing.assert_allclose(img.filled(np.nan)[~img.mask], expect[~img.mask], atol=1e-8)
    assert cax.get_ylabel() == "a" and "1 failed fits blank" in ax.get_title()
    fig2 = res.plot_map("a", shape=(ny, nx), stderr=True, mask_failed=False)
    assert fig2.axes[1].get_ylabel() == "a stderr"
    fig3 = res.plot_map("redchi", (ny, nx))
    np.testing.assert_allclose(fig3.axes[0].images[0].get_array().compressed(),
                               np.delete(res.redchi, 6))
    with pytest.raises(ValueError, match=r"shape \(3, 5\) does not hold the 20 fits"):
        res.plot_map("a", shape=(3, 5))
    with pytest.raises(ValueError, match="'amp' is not a parameter or statistic"):
        res.plot_map("amp", shape=(ny, nx))


def test_statistics_are_offered_by_tab_completion():
    x = np.linspace(0, 1, 10)
    model = bf.Model(line_model)
    res = model.fit(np.stack([2 * x, 3 * x]), model.make_params(a=1, b=0), x=x)
    for r in (res, res[0]):
        assert {"chisqr", "redchi", "aic", "bic", "nfev", "status", "best_fit", "residual"} <= set(dir(r))
        for name in ("chisqr", "redchi", "best_fit"):
            getattr(r, name)
    g = model.fit(np.stack([2 * x, 3 * x + 1]), model.make_params(a=1, b=0), x=x, shared=["a"])
    assert {"chisqr", "redchi", "aic", "bic", "best_fit", "data"} <= set(dir(g))
