"""Arguments of ``batchfit fit``: the parser, ``--param`` specs and ``--model`` specs."""

from __future__ import annotations

import argparse
import math

DATA_SUFFIXES = (".npy", ".npz", ".csv", ".h5", ".hdf5", ".zarr")
OUT_SUFFIXES = (".csv", ".parquet", ".npz", ".json")
FIELDS = ("value", "min", "max", "vary", "expr")
PROG = "batchfit fit"


class CLIError(Exception):
    """A user error: printed as one line, exit status 2."""


def add_parser(sub) -> argparse.ArgumentParser:
    """Register the ``fit`` subcommand on argparse subparsers ``sub``."""
    p = sub.add_parser("fit", help="fit a built-in model to every dataset of a file",
                       description="Fit a built-in model to every dataset (row) of DATA "
                                   "(.npy, .npz, .csv, .h5) and write one row of results per fit.",
                       epilog="See 'python -c \"import batchfit.cli; help(batchfit.cli)\"' for the "
                              "file layouts.")
    p.add_argument("data", metavar="DATA", help="data file: .npy, .npz, .csv (one dataset per row), .h5")
    p.add_argument("--model", required=True,
                   help="built-in model name(s), e.g. gaussian, gaussian+constant, polynomial:degree=2")
    p.add_argument("--x", dest="x", metavar="X",
                   help="x values: a file, 'first-row', a column (--layout columns) or an array name")
    p.add_argument("--data-key", help="array name of the data in a .npz/.h5 file (default: data)")
    p.add_argument("--x-key", help="array name of x in the .npz/.h5 data file or --x file (default: x)")
    p.add_argument("--layout", choices=("rows", "columns"), default="rows",
                   help=".csv layout: one dataset per row (default) or per column")
    p.add_argument("--shared", metavar="P1,P2",
                   help="parameters shared by all datasets (DATA (K, m) is one group, (G, K, m) G groups)")
    p.add_argument("--param", action="append", default=[], metavar="SPEC",
                   help="NAME=VALUE[,min=LO][,max=HI][,vary=BOOL][,expr=EXPR]; repeatable")
    p.add_argument("--no-guess", action="store_true",
                   help="start from the model's defaults and --param instead of its guess")
    p.add_argument("--weights", metavar="W", help="weights (1/sigma): a file or an array name in DATA")
    p.add_argument("--method", choices=("leastsq", "gauss_newton"), default="leastsq")
    p.add_argument("--statistic", choices=("chi2", "cstat"), default="chi2",
                   help="chi2 (least squares, default) or cstat (Poisson counts: Cash's C-statistic)")
    p.add_argument("--loss", choices=("linear", "soft_l1", "huber", "cauchy", "arctan"), default="linear",
                   help="robust loss, as scipy.optimize.least_squares (default: linear)")
    p.add_argument("--f-scale", type=float, default=1.0, metavar="S",
                   help="soft margin of the robust loss between inliers and outliers (default 1)")
    p.add_argument("--nan-policy", choices=("omit", "raise", "propagate"), default="omit",
                   help="missing (NaN) points: left out of the fit (default)")
    p.add_argument("--dtype", choices=("float32", "float64"), default=None)
    p.add_argument("--group-solver", choices=("auto", "dense", "schur"), default="auto")
    p.add_argument("--max-nfev", type=int, default=None)
    p.add_argument("--chunk-size", type=int, default=None, metavar="N", help="fit N datasets at a time")
    p.add_argument("--checkpoint", metavar="DIR", help="keep finished chunks in DIR; a rerun resumes")
    p.add_argument("--out", metavar="RESULTS", help="results file: .csv, .parquet, .npz or .json")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar (default: for 10,000 fits or more on a terminal)")
    p.add_argument("--quiet", action="store_true", help="print no report")
    return p


def _number(text, what):
    try:
        return float(text)
    except ValueError:
        raise CLIError(f"{what} must be a number, got {text!r}") from None


def _bool(text, what):
    t = text.strip().lower()
    if t in ("1", "true", "yes", "on"):
        return True
    if t in ("0", "false", "no", "off"):
        return False
    raise CLIError(f"{what} must be true or false, got {text!r}")


def parse_param(text: str) -> tuple[str, dict]:
    """``--param`` syntax -> ``(name, fields)``.

    ``NAME=VALUE[,min=LO][,max=HI][,vary=BOOL][,expr=EXPR]``; the value may
    be left out (``NAME,min=0``); ``expr`` comes last and may hold commas.

    Example:
      >>> parse_param("center=0.5,min=0,max=1")
      ('center', {'value': 0.5, 'min': 0.0, 'max': 1.0})
      >>> parse_param("c,vary=false")
      ('c', {'vary': False})
      >>> parse_param("fwhm,expr=maximum(sigma, 1)")
      ('fwhm', {'expr': 'maximum(sigma, 1)'})
    """
    what = f"--param {text!r}"
    tokens = text.split(",")
    head = tokens[0].strip()
    name, _, value = head.partition("=")
    name = name.strip()
    if not name.isidentifier():
        raise CLIError(f"{what}: expected NAME=VALUE[,min=LO][,max=HI][,vary=BOOL][,expr=EXPR]; "
                       f"{name!r} is not a parameter name")
    fields = {}
    if "=" in head:
        fields["value"] = _number(value.strip(), f"{what}: the value")
    rest = tokens[1:]
    for i, tok in enumerate(rest):
        key, eq, val = tok.partition("=")
        key = key.strip().lower()
        if not eq or key not in FIELDS:
            raise CLIError(f"{what}: {tok.strip()!r} is not one of value=, min=, max=, vary=, expr=")
        if key in fields:
            raise CLIError(f"{what}: {key} given twice")
        if key == "expr":
            fields["expr"] = ",".join([val] + rest[i + 1:]).strip()
            break
        fields[key] = _bool(val, f"{what}: vary") if key == "vary" else _number(val.strip(), f"{what}: {key}")
    for key in ("min", "max"):
        if key in fields and math.isnan(fields[key]):
            raise CLIError(f"{what}: {key} must not be NaN")
    return name, fields


def _option_value(text):
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    return text


def build_model(spec: str):
    """The model of a ``--model`` string: built-in names (with ``:key=value``
    constructor options) joined by ``+``.

    Example:
      >>> build_model("gaussian:prefix=g1_+constant").param_names
      ['g1_amplitude', 'g1_center', 'g1_sigma', 'c']
      >>> build_model("polynomial:degree=2").param_names
      ['c0', 'c1', 'c2']
    """
    from ..models import MODELS, get_model

    parts = [t.strip() for t in spec.split("+")]
    if not spec.strip() or any(not t for t in parts):
        raise CLIError(f"--model {spec!r}: empty model name; known models: {', '.join(MODELS)}")
    models = []
    for term in parts:
        name, *opts = term.split(":")
        kw = {}
        for o in opts:
            k, eq, v = o.partition("=")
            if not eq or not k.strip().isidentifier():
                raise CLIError(f"--model {spec!r}: option {o!r} is not KEY=VALUE")
            kw[k.strip()] = _option_value(v.strip())
        if name.strip().lower() not in MODELS:
            raise CLIError(f"--model: unknown model {name.strip()!r}; known models: {', '.join(MODELS)}")
        try:
            models.append(get_model(name.strip(), **kw))
        except (TypeError, ValueError) as err:
            raise CLIError(f"--model {term!r}: {err}") from None
    model = models[0]
    try:
        for m in models[1:]:
            model = model + m
    except NameError as err:
        raise CLIError(f"--model {spec!r}: {err}") from None
    if model.independent_vars != ["x"]:
        raise CLIError(f"--model {spec!r}: the model's independent variables are {model.independent_vars}; "
                       "the command line fits models of one variable x")
    return model


def model_label(model) -> str:
    """The model as the command line names it: ``gaussian``, ``gaussian+constant``."""
    parts = getattr(model, "components", None)
    if parts:
        return "+".join(getattr(c, "_name", None) or c.name for c in parts)
    return getattr(model, "_name", None) or model.name
