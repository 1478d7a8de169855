"""Built-in data of the mission's use cases."""

import numpy as np

#: Use case 2: vapour pressure P [kPa] against temperature T [C].
ANTOINE_T = np.array(
    [64.51, 66.14, 67.83, 69.58, 71.29, 73.16, 75.36, 77.90, 81.48, 84.01, 87.53, 92.39, 100.00]
)
ANTOINE_P = np.array(
    [101.325, 107.9911184, 115.283852, 123.2431974, 131.4691875, 140.9750724, 152.8807599,
     167.6395461, 190.4243388, 208.0095592, 234.6607007, 276.0039671, 352.4910099]
)
#: Certified-style best fit of use case 2 (A, B, C).
ANTOINE_BEST = (7.13144455, -1540.27894, 235.99031)
#: The three starts of use case 2.
ANTOINE_STARTS = ((1.0, 1.0, 1.0), (10.0, -100.0, 100.0), (10.0, -1500.0, 200.0))


def two_gaussian_datasets(seed=0):
    """Use case 1: x (150,) on [0, 2] and data (2, 150): G(1, 0.5, 10) + C_k + noise 0.5."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, 2.0, 150)
    g = 10.0 * np.exp(-((x - 1.0) ** 2) / (2 * 0.5**2))
    data = np.stack([g + c + rng.normal(0.0, 0.5, x.size) for c in (5.0, 2.5)])
    return x, data


def gaussian_batch(n, seed=0, npts=100, dtype=np.float64):
    """Workload W1: n noisy Gaussians + constant; returns x, data, truth, start."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, 2.0, npts)
    truth = {
        "amp": rng.uniform(5, 15, n), "cen": rng.uniform(0.7, 1.3, n),
        "sigma": rng.uniform(0.1, 0.4, n), "c": rng.uniform(0, 5, n),
    }
    clean = truth["amp"][:, None] * np.exp(
        -((x[None] - truth["cen"][:, None]) ** 2) / (2 * truth["sigma"][:, None] ** 2)
    ) + truth["c"][:, None]
    data = (clean + rng.normal(0, 0.5, clean.shape)).astype(dtype)
    start = {k: v * rng.uniform(0.8, 1.2, n) for k, v in truth.items()}
    return x.astype(dtype), data, truth, start
