"""Per-shape starting-value estimators, vectorised over datasets (numpy).

Each takes a :class:`~._guess.GuessData` and returns ``{name: (N,) array}``.
The peak, polynomial, exponential, power-law and sine estimates follow
lmfit's ``guess`` methods (the same numbers, dataset by dataset); the step,
2-D Gaussian, double-exponential and Antoine estimates are batchfit's.
"""

from __future__ import annotations

import numpy as np

from ._guess import (linregress, masked_max, masked_mean, masked_median, masked_min, normal_lstsq,
                     polyfit, sort_by, take)

LN2 = np.log(2.0)


def peak(g, negative=False, ampscale=1.0, sigscale=1.0):
    """lmfit's ``guess_from_peak``: centre and width from the points beyond half maximum."""
    x, y, v = sort_by(g, "x")
    ymax, ymin = masked_max(y, v), masked_min(y, v)
    xmax, xmin = masked_max(x, v), masked_min(x, v)
    cen = take(x, np.argmax(np.where(v, y, -np.inf), axis=1))
    height = (ymax - ymin) * 3.0
    sig = (xmax - xmin) / 6.0
    mid = (ymax + ymin) / 2.0
    if negative:
        height = -height
        half = v & (y < mid[:, None])
    else:
        half = v & (y > mid[:, None])
    count = half.sum(axis=1)
    first = np.argmax(half, axis=1)
    last = half.shape[1] - 1 - np.argmax(half[:, ::-1], axis=1)
    use = count > 2
    sig = np.where(use, (take(x, last) - take(x, first)) / 2.0, sig)
    cen = np.where(use, masked_mean(x, half), cen)
    return {"amplitude": height * sig * ampscale, "center": cen, "sigma": sig * sigscale}


def poly(g, degree):
    """Polynomial coefficients ``c0..c<degree>`` by least squares."""
    c = polyfit(g.ind["x"], g.y, g.valid, degree, g.shared)
    return {f"c{i}": c[:, degree - i] for i in range(degree + 1)}


def exponential(g):
    """lmfit's: a straight line through ``log(|y|)``."""
    c = polyfit(g.ind["x"], np.log(np.abs(g.y) + 1.0e-15), g.valid, 1, g.shared)
    slope = np.where(c[:, 0] == 0, -1e-300, c[:, 0])
    return {"amplitude": np.exp(c[:, 1]), "decay": -1.0 / slope}


def powerlaw(g):
    """lmfit's: a straight line through ``log|y|`` against ``log|x|``."""
    lx = np.log(np.abs(g.ind["x"]) + 1.0e-14)
    c = polyfit(lx, np.log(np.abs(g.y) + 1.0e-14), g.valid, 1, g.shared)
    return {"amplitude": np.exp(c[:, 1]), "exponent": c[:, 0]}


def sine(g):
    """lmfit's: the strongest FFT frequency, then the best of 11 phase shifts."""
    x, y, v = g.ind["x"], g.y, g.valid
    m = y.shape[1]
    yc = np.where(v, y - masked_mean(y, v)[:, None], 0.0)
    spacing = np.abs(x[:, -1] - x[:, 0]) / (m - 1)
    spacing = np.where(spacing > 0, spacing, 1.0)
    power = np.abs(np.fft.fft(yc, axis=1))
    k = np.argmax(power, axis=1)
    freqs = np.fft.fftfreq(m)[k] * m * (1.0 / (m * spacing))
    amplitude = 2.0 * take(power, k) / m
    frequency = 2 * np.pi * np.abs(freqs)
    shifts = np.linspace(0, 2 * np.pi, 11, endpoint=False)
    # |A sin(f x + s) - y|² for every shift s from five sums, as sin(f x + s) = S cos s + C sin s
    arg = x * frequency[:, None]
    S, C = np.where(v, np.sin(arg), 0.0), np.where(v, np.cos(arg), 0.0)
    ss, cc, sc = (np.sum(a * b, axis=1)[:, None] for a, b in ((S, S), (C, C), (S, C)))
    sy, cy = np.sum(S * yc, axis=1)[:, None], np.sum(C * yc, axis=1)[:, None]
    cs, sn, a = np.cos(shifts)[None, :], np.sin(shifts)[None, :], amplitude[:, None]
    err = a * a * (cs * cs * ss + 2 * cs * sn * sc + sn * sn * cc) - 2 * a * (cs * sy + sn * cy)
    return {"amplitude": amplitude, "frequency": frequency, "shift": shifts[np.argmin(err, axis=1)]}


def step(g):
    """Height from the data range; centre where the data cross half height;
    rising or falling from the first and last fifths (sigma = range/10)."""
    x, y, v = sort_by(g, "x")
    ymax, ymin = masked_max(y, v), masked_min(y, v)
    xmax, xmin = masked_max(x, v), masked_min(x, v)
    n = v.sum(axis=1)
    idx = np.arange(y.shape[1])[None, :]
    fifth = np.maximum(n // 5, 1)[:, None]
    early = masked_mean(y, v & (idx < fifth))
    late = masked_mean(y, v & (idx >= n[:, None] - fifth))
    rising = late >= early
    mid = (ymax + ymin) / 2.0
    before = np.where(rising[:, None], y < mid[:, None], y > mid[:, None]) & v
    center = take(x, np.clip(before.sum(axis=1), 0, n - 1))
    sigma = 0.1 * (xmax - xmin)
    return {"amplitude": ymax - ymin, "center": center, "sigma": np.where(rising, sigma, -sigma)}


def peak2d(g, form, negative=False):
    """Centre, covariance and height of a 2-D peak, then the model's parameters.

    First the mean and covariance of the points beyond half maximum (on a
    uniform grid they fill the half-maximum ellipse, of second moment
    ``sigma**2 ln2 / 2`` along an axis); then, where it is well posed, a
    weighted least-squares quadratic through ``log(z - min z)`` over those
    points (exact for a noise-free Gaussian; Caruana's method in 2-D).
    """
    x, y, v = g.ind["x"], g.ind["y"], g.valid
    z = -g.y if negative else g.y
    zmax, zmin = masked_max(z, v), masked_min(z, v)
    base = masked_median(z, v & (z <= ((zmax + zmin) / 2)[:, None]), zmin)  # the background
    half = v & (z > ((zmax + base) / 2)[:, None])
    mom = _moments(x, y, z, v, half)
    quad, ok = _log_quadratic(x, y, z - base[:, None], half, mom)
    cx, cy, sxx, syy, sxy = (np.where(ok, q, m) for q, m in zip(quad, mom))
    height = np.where(ok, quad[5], zmax - base)
    out = {"centerx": cx, "centery": cy}
    if form == "rotated":
        root = np.sqrt(((sxx - syy) / 2) ** 2 + sxy**2)
        sx, sy = np.sqrt((sxx + syy) / 2 + root), np.sqrt(np.maximum((sxx + syy) / 2 - root, 0))
        out["rotation"] = 0.5 * np.arctan2(2 * sxy, sxx - syy)
    else:
        sx, sy = np.sqrt(sxx), np.sqrt(syy)
    sign = -1.0 if negative else 1.0
    if form == "circular":
        out["sigma"] = np.sqrt((sxx + syy) / 2)
        out["amplitude"] = sign * height * 2 * np.pi * (sxx + syy) / 2
    else:
        out["sigmax"], out["sigmay"] = sx, sy
        out["amplitude"] = sign * height * 2 * np.pi * sx * sy
    return out


def _moments(x, y, z, v, half):
    """(cx, cy, sxx, syy, sxy) from the points beyond half maximum."""
    use = half.sum(axis=1) >= 3
    i_peak = np.argmax(np.where(v, z, -np.inf), axis=1)
    cx = np.where(use, masked_mean(x, half), take(x, i_peak))
    cy = np.where(use, masked_mean(y, half), take(y, i_peak))
    dx, dy = x - cx[:, None], y - cy[:, None]
    k = 2 / LN2
    sxx, syy, sxy = (k * masked_mean(a, half) for a in (dx * dx, dy * dy, dx * dy))
    # too few points (a peak narrower than the sampling): half the point spacing
    span = np.maximum(masked_max(x, v) - masked_min(x, v), masked_max(y, v) - masked_min(y, v))
    f2 = (0.5 * span / np.sqrt(v.sum(axis=1))) ** 2
    good = use & (sxx > 0) & (syy > 0)
    sxx, syy = np.where(good, sxx, f2), np.where(good, syy, f2)
    lim = 0.99 * np.sqrt(sxx * syy)
    sxy = np.where(good, np.clip(sxy, -lim, lim), 0.0)
    return cx, cy, sxx, syy, sxy


def _log_quadratic(x, y, h, half, mom):
    """Weighted (h**2) least-squares quadratic in log h, in coordinates
    centred and scaled by the moment estimates; returns the same fields and
    where the fit is a proper (negative-definite) peak."""
    cx, cy, sxx, syy = mom[:4]
    s0 = np.sqrt((sxx + syy) / 2)[:, None]
    u, w = (x - cx[:, None]) / s0, (y - cy[:, None]) / s0
    pts = half & (h > 0)
    lh = np.log(np.where(pts, h, 1.0))
    wt = np.where(pts, h * h, 0.0)
    c = normal_lstsq([np.ones_like(u), u, w, u * u, u * w, w * w], lh, wt)
    p11, p22, p12 = -2 * c[:, 3], -2 * c[:, 5], -c[:, 4]
    det = p11 * p22 - p12 * p12
    ok = (pts.sum(axis=1) >= 6) & (p11 > 0) & (p22 > 0) & (det > 0)
    det = np.where(ok, det, 1.0)
    s11, s22, s12 = p22 / det, p11 / det, -p12 / det  # covariance, scaled coordinates
    mu, mv = s11 * c[:, 1] + s12 * c[:, 2], s12 * c[:, 1] + s22 * c[:, 2]
    lnh = c[:, 0] + 0.5 * (c[:, 1] * mu + c[:, 2] * mv)
    ok &= (np.abs(mu) < 3) & (np.abs(mv) < 3) & (lnh < 700)
    s = s0[:, 0]
    quad = (cx + s * mu, cy + s * mv, s * s * s11, s * s * s22, s * s * s12, np.exp(np.minimum(lnh, 700)))
    return quad, ok


def double_exponential(g):
    """Rates from the linear integral equation y = a SS + b S + c x + d
    (S, SS: running integrals), whose characteristic roots r**2 = b r + a
    are -1/decay (J. Jacquelin, "Regressions et equations integrales");
    then the amplitudes by linear least squares."""
    x, y, v = sort_by(g, "x")
    last = v.sum(axis=1) - 1
    x = np.where(v, x, take(x, last)[:, None])  # invalid points (sorted last) add nothing
    y = np.where(v, y, take(y, last)[:, None])
    x0 = x[:, :1]
    s = _cumtrapz(y, x)
    ss = _cumtrapz(s, x)
    w = v.astype(float)
    a, b = normal_lstsq([ss, s, x - x0, np.ones_like(x)], y, w)[:, :2].T
    disc = b * b + 4 * a
    root = np.sqrt(np.maximum(disc, 0))
    r1, r2 = (b - root) / 2, (b + root) / 2  # r1 <= r2: the faster decay first
    single = exponential(g)
    ok = (disc > 0) & (r1 < 0) & (r2 < 0) & np.isfinite(r1) & np.isfinite(r2)
    r1 = np.where(ok, r1, -2.0 / single["decay"])
    r2 = np.where(ok, r2, -0.5 / single["decay"])
    with np.errstate(over="ignore", invalid="ignore"):
        e1, e2 = np.exp(r1[:, None] * x), np.exp(r2[:, None] * x)
    w = w * np.isfinite(e1) * np.isfinite(e2)
    amp = normal_lstsq([np.where(w > 0, e1, 0.0), np.where(w > 0, e2, 0.0)], y, w)
    return {"amplitude1": amp[:, 0], "decay1": -1.0 / r1, "amplitude2": amp[:, 1], "decay2": -1.0 / r2}


def _cumtrapz(y, x):
    inc = 0.5 * (y[:, 1:] + y[:, :-1]) * np.diff(x, axis=1)
    return np.concatenate([np.zeros_like(y[:, :1]), np.cumsum(inc, axis=1)], axis=1)


def antoine(g):
    """``log10 P = A + B/(T + C)`` is linear in (A, B) for fixed C: scan C
    over T + C in (0.01, 1000) times the T range (at the lowest T), then
    twice more around the best, each time ten times finer."""
    T, v = g.ind["x"], g.valid & (g.y > 0)
    lp = np.log10(np.where(v, g.y, 1.0))
    tmin, tmax = masked_min(T, v), masked_max(T, v)
    span = np.where(tmax > tmin, tmax - tmin, 1.0)

    def scan(grid):  # grid: (N, K) values of (T + C) / span at the lowest T
        fits = []
        for k in range(grid.shape[1]):
            C = span * grid[:, k] - tmin
            fits.append(linregress(1.0 / np.where(v, T + C[:, None], 1.0), lp, v))
        a, b, sse = (np.stack(f, axis=1) for f in zip(*fits))
        j = np.argmin(sse, axis=1)
        return take(a, j), take(b, j), take(grid, j)

    grid = np.broadcast_to(np.geomspace(1e-2, 1e3, 36), (T.shape[0], 36))
    ratio = grid[0, 1] / grid[0, 0]
    for _ in range(3):  # each pass: 21 points within one step of the best
        A, B, best = scan(grid)
        grid = best[:, None] * np.geomspace(1 / ratio, ratio, 21)[None, :]
        ratio = ratio ** 0.1
    return {"A": A, "B": B, "C": span * best - tmin}
