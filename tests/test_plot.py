"""FitResult.plot / plot_batch: panels, artists, labels and data drawn."""

import sys

import jax.numpy as jnp
import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.container import ErrorbarContainer  # noqa: E402

import batchfit as bf  # noqa: E402


def decay(x, a, k, c):
    return a * jnp.exp(-k * x) + c


def decay_np(x, a, k, c):
    return a * np.exp(-k * x) + c


MODEL = bf.Model(decay)


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(0)
    N, m = 12, 40
    x = np.sort(rng.uniform(0, 4, (N, m)), axis=1)
    truth = rng.uniform([1, 0.5, 0], [3, 2, 1], (N, 3))
    sd = np.full(m, 0.05)
    y = np.stack([decay_np(x[i], *truth[i]) for i in range(N)]) + sd * rng.normal(size=(N, m))
    y[5] = rng.normal(0, 1, m)  # a fit with a large reduced chi-square
    res = MODEL.fit(y, MODEL.make_params(a=2, k=1, c=0.5), x=x, weights=1 / sd)
    return res, x, y, sd


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _line(ax, label):
    return next(ln for ln in ax.get_lines() if ln.get_label() == label)


def test_single_fit_panels_data_fit_init_and_residual(batch, tmp_path):
    res, x, y, sd = batch
    r = res[3]
    fig = r.plot()
    assert len(fig.axes) == 2
    top, bottom = fig.axes
    assert (top.get_ylabel(), bottom.get_ylabel(), bottom.get_xlabel()) == ("y", "residual", "x")
    assert top.get_title() == "Model(decay)"  # lmfit's model name
    labels = [t.get_text() for t in top.get_legend().get_texts()]
    assert sorted(labels) == ["best fit", "data", "init fit"]
    # data with error bars 1/weights
    eb = [c for c in top.containers if isinstance(c, ErrorbarContainer)]
    assert len(eb) == 1
    np.testing.assert_array_equal(eb[0].lines[0].get_xdata(), x[3])
    np.testing.assert_array_equal(eb[0].lines[0].get_ydata(), y[3])
    seg = eb[0].lines[2][0].get_segments()
    np.testing.assert_allclose([s[1, 1] - s[0, 1] for s in seg], 2 * sd, rtol=1e-12)
    # the best fit and the model at the starting values, recomputed here
    p = [float(r.params[n].value) for n in ("a", "k", "c")]
    np.testing.assert_allclose(_line(top, "best fit").get_ydata(), decay_np(x[3], *p), rtol=1e-10)
    np.testing.assert_allclose(_line(top, "init fit").get_ydata(), decay_np(x[3], 2, 1, 0.5), rtol=1e-12)
    reb = [c for c in bottom.containers if isinstance(c, ErrorbarContainer)][0]
    np.testing.assert_allclose(reb.lines[0].get_ydata(), decay_np(x[3], *p) - y[3], atol=1e-10)
    out = tmp_path / "fit.png"
    fig.savefig(out, dpi=60)
    assert out.stat().st_size > 5000


def test_unweighted_unsorted_fit_draws_plain_markers_sorted_by_x():
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 4, 30)  # not sorted
    y = decay_np(x, 2, 1.2, 0.3) + rng.normal(0, 0.02, 30)
    r = MODEL.fit(y, MODEL.make_params(a=1, k=1, c=0), x=x)
    fig = r.plot(show_init=False, title="my fit")
    top = fig.axes[0]
    assert not top.containers and top.get_title() == "my fit"
    assert [ln.get_label() for ln in top.get_lines()] == ["data", "best fit"]
    order = np.argsort(x)
    np.testing.assert_array_equal(_line(top, "data").get_xdata(), x[order])
    np.testing.assert_array_equal(_line(top, "data").get_ydata(), y[order])


def test_batch_plot_points_to_index_or_plot_batch(batch):
    res, *_ = batch
    with pytest.raises(ValueError, match=r"12 fits; plot one with result\[i\]\.plot\(\).*plot_batch"):
        res.plot()


def test_minimize_result_plots_the_residual_only():
    x = np.linspace(0, 1, 25)
    y = 1.5 * x + 0.2 + 0.05 * np.sin(11 * x)
    p = bf.create_params(a=1.0, b=0.0)
    res = bf.minimize(lambda p, x, y: p["a"] * x + p["b"] - y, p, args=(x, y))
    fig = res.plot()
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("residual index", "residual")
    assert "residual only" in ax.get_title()
    A = np.column_stack([x, np.ones_like(x)])
    beta = np.linalg.lstsq(A, y, rcond=None)[0]
    np.testing.assert_allclose(_line(ax, "residual").get_ydata(), A @ beta - y, atol=1e-10)


def test_plot_batch_histograms_status_and_worst_fits(batch, tmp_path):
    res, x, y, sd = batch
    fig = res.plot_batch(n_worst=3, bins=10)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:5] == ["a", "k", "c", "redchi", "status"]
    ok = np.asarray(res.success)
    for ax, n in zip(fig.axes[:3], "akc"):
        heights = [p.get_height() for p in ax.patches]
        assert len(heights) == 10 and sum(heights) == ok.sum()
        v = res.params[n].value[ok]
        np.testing.assert_allclose(np.histogram(v, bins=10)[0], heights)
    status_ax = fig.axes[4]
    codes, counts = np.unique(res.status, return_counts=True)
    assert [t.get_text() for t in status_ax.get_xticklabels()] == [bf.RESULTS(int(c)).name for c in codes]
    assert [p.get_height() for p in status_ax.patches] == list(counts)
    # the three largest reduced chi-squares, largest first; fit 5 is noise
    worst = np.argsort(-res.redchi)[:3]
    assert worst[0] == 5
    assert titles[5:] == [f"fit {i}: redchi {res.redchi[i]:.3g}" + (
        "" if res.success[i] else f" (status {bf.RESULTS(int(res.status[i])).name})") for i in worst]
    np.testing.assert_array_equal(fig.axes[5].get_lines()[0].get_ydata(), y[5])
    assert fig.get_suptitle() == f"12 fits, {ok.sum()} succeeded (leastsq)"
    out = tmp_path / "batch.png"
    fig.savefig(out, dpi=50)
    assert out.stat().st_size > 10000


def test_loaded_result_plots_like_the_original(batch, tmp_path):
    res, x, y, sd = batch
    res.save(tmp_path / "b.npz")
    back = bf.load_result(tmp_path / "b.npz")
    fig = back[7].plot()
    top = fig.axes[0]
    assert top.get_title() == "Model(decay)"  # lmfit's model name is kept, the model is not
    assert sorted(t.get_text() for t in top.get_legend().get_texts()) == ["best fit", "data"]
    np.testing.assert_array_equal(_line(top, "best fit").get_ydata(), res.best_fit[7])


def test_plots_without_matplotlib_name_the_extra(batch, monkeypatch):
    res, *_ = batch
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install batchfit\[plot\]"):
        res[0].plot()
    with pytest.raises(ImportError, match=r"pip install batchfit\[plot\]"):
        res.plot_batch()


def test_plot_batch_of_identical_fits_draws_one_bin_each(batch):
    res, x, y, sd = batch
    same = MODEL.fit(np.tile(y[0], (12, 1)), MODEL.make_params(a=2, k=1, c=0.5), x=np.tile(x[0], (12, 1)),
                     weights=1 / sd)
    fig = same.plot_batch(n_worst=0)
    assert len(fig.axes) == 5
    for ax in fig.axes[:3]:
        assert [p.get_height() for p in ax.patches] == [12]


def test_ragged_batch_member_plots_its_own_points():
    rng = np.random.default_rng(2)
    xs = [np.sort(rng.uniform(0, 4, m)) for m in (30, 40, 35)]
    ys = [decay_np(x, 2, 1.0 + 0.2 * i, 0.3) + rng.normal(0, 0.02, x.size) for i, x in enumerate(xs)]
    res = MODEL.fit(ys, MODEL.make_params(a=1, k=1, c=0), x=list(xs))
    fig = res[2].plot()
    top = fig.axes[0]
    np.testing.assert_array_equal(_line(top, "data").get_xdata(), xs[2])
    np.testing.assert_array_equal(_line(top, "data").get_ydata(), ys[2])
    p = [float(res[2].params[n].value) for n in ("a", "k", "c")]
    np.testing.assert_allclose(_line(top, "init fit").get_ydata(), decay_np(xs[2], 1, 1, 0), rtol=1e-12)
    np.testing.assert_allclose(_line(top, "best fit").get_ydata(), decay_np(xs[2], *p), rtol=1e-10)


def test_error_bars_of_a_member_when_points_equal_fits():
    # m == N: shared weights of shape (m,) must not be mistaken for per-fit values
    rng = np.random.default_rng(3)
    x = np.linspace(0, 4, 8)
    sd = np.linspace(0.01, 0.08, 8)
    Y = np.stack([decay_np(x, 2, 1 + 0.1 * i, 0.3) for i in range(8)]) + sd * rng.normal(size=(8, 8))
    res = MODEL.fit(Y, MODEL.make_params(a=1, k=1, c=0), x=x, weights=1 / sd)
    np.testing.assert_allclose(res[5].weights, 1 / sd)
    fig = res[5].plot()
    eb = [c for c in fig.axes[0].containers if isinstance(c, ErrorbarContainer)][0]
    seg = eb.lines[2][0].get_segments()
    np.testing.assert_allclose([s[1, 1] - s[0, 1] for s in seg], 2 * sd, rtol=1e-12)
    np.testing.assert_array_equal(eb.lines[0].get_ydata(), Y[5])
