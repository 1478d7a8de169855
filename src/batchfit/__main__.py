"""Command line: ``batchfit demo``, ``batchfit fit DATA --model NAME [...]``,
``batchfit bench [...]`` (or ``python -m batchfit ...``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _bench(argv):
    """Run the benchmark suite of a source checkout (``benchmarks/run.py``)."""
    root = Path(__file__).resolve().parents[2]  # src/batchfit/__main__.py -> the checkout
    if (root / "benchmarks" / "run.py").is_file() and str(root) not in sys.path:
        sys.path.insert(0, str(root))
    try:
        from benchmarks.run import main as bench_main
    except ImportError as err:
        raise SystemExit(
            "batchfit bench: the benchmark suite is the benchmarks/ folder of a batchfit source "
            "checkout and was not found (install batchfit editable from a checkout, or run "
            f"'python -m benchmarks' in one): {err}"
        ) from None
    bench_main(argv)
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(prog="batchfit", description="Batched nonlinear least squares.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("demo", help="fit the built-in use cases and a batch of 10,000 fits")
    from . import cli

    cli.add_parser(sub)
    sub.add_parser("bench", help="run the benchmark suite (source checkout; 'batchfit bench --help')",
                   add_help=False)
    if argv[:1] == ["bench"]:  # every further option belongs to the suite
        return _bench(argv[1:])
    args = parser.parse_args(argv)
    if args.cmd == "fit":
        return cli.run(args)
    if args.cmd == "demo":
        from .demo import main as demo_main

        demo_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
