"""``batchfit fit``: read, fit, report, write."""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from ._args import PROG, CLIError, add_parser, build_model, model_label, parse_param
from ._readers import _check_shapes, read_inputs
from ._starts import starting_params
from ._writers import _check_out, write_results


def _fit(args):
    model = build_model(args.model)
    shared = None
    if args.shared is not None:
        shared = [s.strip() for s in args.shared.split(",") if s.strip()]
        if not shared:
            raise CLIError("--shared: give parameter names separated by commas")
        bad = [s for s in shared if s not in model.param_names]
        if bad:
            raise CLIError(f"--shared: model {model_label(model)} has no parameter(s) {bad}; "
                           f"it has {', '.join(model.param_names)}")
        if args.chunk_size is not None or args.checkpoint is not None:
            raise CLIError("--chunk-size and --checkpoint do not apply to --shared fits")
    if args.chunk_size is not None and args.chunk_size < 1:
        raise CLIError(f"--chunk-size must be at least 1, got {args.chunk_size}")
    specs = [parse_param(t) for t in args.param]
    if args.out is not None:
        _check_out(args.out)
    inp = read_inputs(args)
    _check_shapes(inp, shared)
    params = starting_params(model, inp, shared, specs, args.no_guess)

    kw = dict(x=inp.x, weights=inp.weights, method=args.method, nan_policy=args.nan_policy,
              dtype=args.dtype, max_nfev=args.max_nfev)
    for k in ("statistic", "loss", "f_scale"):  # absent from a Namespace built by hand
        if getattr(args, k, None) is not None:
            kw[k] = getattr(args, k)
    n = int(np.prod(inp.data.shape[:-1]))
    if shared is not None:
        kw.update(shared=shared, group_solver=args.group_solver)
    else:
        progress, chunk = args.progress, args.chunk_size
        if progress is None:
            progress = n >= 10_000 and sys.stderr.isatty()
        if progress and chunk is None:
            chunk = max(1_000, -(-n // 20))  # about 20 steps of the bar
        kw.update(chunk_size=chunk, checkpoint=args.checkpoint, progress=bool(progress))
    t0 = time.perf_counter()
    try:
        res = model.fit(inp.data, params, **kw)
    except (ValueError, TypeError, OSError) as err:  # OSError: a checkpoint folder's disk full
        raise CLIError(f"fit of model {model_label(model)} to {inp.source}: {err}") from None
    elapsed = time.perf_counter() - t0
    if not args.quiet:
        from ..report._text import fit_report

        print(fit_report(res))
        what = (f"{len(res)} group(s) of {res.ndatasets} datasets" if shared is not None
                else f"{n} dataset(s)")
        print(f"\nfitted {what} of {inp.data.shape[-1]} points, model {model_label(model)}, "
              f"in {elapsed:.2f} s; status: {res.summary_counts()}")
    if args.out is not None:
        desc = write_results(res, args.out, inp.labels)
        if not args.quiet:
            print(f"results: {args.out} ({desc})")
    return res


def run(args) -> int:
    """Run ``batchfit fit`` with parsed arguments; 0 on success, 2 on a user error."""
    try:
        _fit(args)
    except CLIError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 2
    return 0


def main(argv=None) -> int:
    """``batchfit fit`` with the arguments after ``fit`` (default: ``sys.argv``).

    Example:
      >>> import contextlib, io, os, tempfile, numpy as np
      >>> x = np.linspace(-3, 3, 41)
      >>> data = np.stack([a * np.exp(-x**2 / 2) + 0.01 * np.cos(7 * x) for a in (1.0, 2.0)])
      >>> with tempfile.TemporaryDirectory() as d:
      ...     np.save(os.path.join(d, "y.npy"), data); np.save(os.path.join(d, "x.npy"), x)
      ...     with contextlib.redirect_stdout(io.StringIO()):
      ...         code = main([os.path.join(d, "y.npy"), "--model", "gaussian", "--x",
      ...                      os.path.join(d, "x.npy"), "--out", os.path.join(d, "r.csv")])
      ...     with open(os.path.join(d, "r.csv")) as fh:
      ...         rows = fh.read().splitlines()
      >>> code, rows[0].split(",")[:4], len(rows)
      (0, ['fit', 'amplitude', 'amplitude_stderr', 'center'], 3)
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(prog="batchfit")
    add_parser(parser.add_subparsers(dest="cmd", required=True))
    return run(parser.parse_args(["fit"] + argv))
