"""NIST StRD nonlinear regression problems: loader and JAX models."""

import json
import os

import jax.numpy as jnp
import numpy as np

PI = 3.141592653589793238462643383279


def _exp3(x, b1, b2, b3, b4, b5, b6):
    return b1 * jnp.exp(-b2 * x) + b3 * jnp.exp(-b4 * x) + b5 * jnp.exp(-b6 * x)


def _gauss(x, b1, b2, b3, b4, b5, b6, b7, b8):
    return b1 * jnp.exp(-b2 * x) + b3 * jnp.exp(-((x - b4) ** 2) / b5**2) + b6 * jnp.exp(-((x - b7) ** 2) / b8**2)


def _rat7(x, b1, b2, b3, b4, b5, b6, b7):
    return (b1 + b2 * x + b3 * x**2 + b4 * x**3) / (1 + b5 * x + b6 * x**2 + b7 * x**3)


def _chwirut(x, b1, b2, b3):
    return jnp.exp(-b1 * x) / (b2 + b3 * x)


MODELS = {
    "Misra1a": lambda x, b1, b2: b1 * (1 - jnp.exp(-b2 * x)),
    "Chwirut2": _chwirut,
    "Chwirut1": _chwirut,
    "Lanczos3": _exp3,
    "Gauss1": _gauss,
    "Gauss2": _gauss,
    "DanWood": lambda x, b1, b2: b1 * x**b2,
    "Misra1b": lambda x, b1, b2: b1 * (1 - (1 + b2 * x / 2) ** (-2)),
    "Kirby2": lambda x, b1, b2, b3, b4, b5: (b1 + b2 * x + b3 * x**2) / (1 + b4 * x + b5 * x**2),
    "Hahn1": _rat7,
    "Nelson": lambda x1, x2, b1, b2, b3: b1 - b2 * x1 * jnp.exp(-b3 * x2),
    "MGH17": lambda x, b1, b2, b3, b4, b5: b1 + b2 * jnp.exp(-x * b4) + b3 * jnp.exp(-x * b5),
    "Lanczos1": _exp3,
    "Lanczos2": _exp3,
    "Gauss3": _gauss,
    "Misra1c": lambda x, b1, b2: b1 * (1 - (1 + 2 * b2 * x) ** (-0.5)),
    "Misra1d": lambda x, b1, b2: b1 * b2 * x * ((1 + b2 * x) ** (-1)),
    "Roszman1": lambda x, b1, b2, b3, b4: b1 - b2 * x - jnp.arctan(b3 / (x - b4)) / PI,
    "ENSO": lambda x, b1, b2, b3, b4, b5, b6, b7, b8, b9: (
        b1 + b2 * jnp.cos(2 * PI * x / 12) + b3 * jnp.sin(2 * PI * x / 12)
        + b5 * jnp.cos(2 * PI * x / b4) + b6 * jnp.sin(2 * PI * x / b4)
        + b8 * jnp.cos(2 * PI * x / b7) + b9 * jnp.sin(2 * PI * x / b7)
    ),
    "MGH09": lambda x, b1, b2, b3, b4: b1 * (x**2 + x * b2) / (x**2 + x * b3 + b4),
    "Thurber": _rat7,
    "BoxBOD": lambda x, b1, b2: b1 * (1 - jnp.exp(-b2 * x)),
    "Rat42": lambda x, b1, b2, b3: b1 / (1 + jnp.exp(b2 - b3 * x)),
    "MGH10": lambda x, b1, b2, b3: b1 * jnp.exp(b2 / (x + b3)),
    "Eckerle4": lambda x, b1, b2, b3: (b1 / b2) * jnp.exp(-0.5 * ((x - b3) / b2) ** 2),
    "Rat43": lambda x, b1, b2, b3, b4: b1 / ((1 + jnp.exp(b2 - b3 * x)) ** (1 / b4)),
    "Bennett5": lambda x, b1, b2, b3: b1 * (b2 + x) ** (-1 / b3),
}


def load(shared, name):
    """(x, y, certified record) for one problem; Nelson's y is log-transformed."""
    with open(os.path.join(shared, "nist_strd", "certified.json")) as fh:
        cert = {c["name"]: c for c in json.load(fh)}[name]
    with open(os.path.join(shared, "nist_strd", f"{name}.dat")) as fh:
        lines = fh.read().splitlines()
    rows = np.array([[float(v) for v in ln.split()] for ln in lines[60:] if ln.strip()])
    assert rows.shape[0] == cert["n_obs"]
    y = rows[:, 0]
    x = rows[:, 1] if rows.shape[1] == 2 else rows[:, 1:].T
    if name == "Nelson":
        y = np.log(y)
    return x, y, cert
