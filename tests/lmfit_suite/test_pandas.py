# Ported from lmfit 1.3.4, tests/test_pandas.py (rewritten for batchfit:
# `lmfit` -> `batchfit`).
import os

import numpy as np
import pytest

import batchfit
import batchfit.models

pandas = pytest.importorskip("pandas")
DATA = os.path.join(os.path.dirname(__file__), "data", "peak.csv")


def test_pandas_guess_from_peak():
    data = pandas.read_csv(DATA)
    xdat, ydat = np.loadtxt(DATA, unpack=True, skiprows=1, delimiter=",")
    model = batchfit.models.LorentzianModel()
    assert model.guess(data["y"], x=data["x"]) == model.guess(ydat, x=xdat)


def test_pandas_Voigt_model():
    data = pandas.read_csv(DATA)
    model = batchfit.models.VoigtModel()
    fit = model.fit(data["y"], model.make_params(), x=data["x"])
    assert fit.success
