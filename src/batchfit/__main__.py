"""Command line: ``batchfit demo`` (or ``python -m batchfit demo``)."""

from __future__ import annotations

import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="batchfit", description="Batched nonlinear least squares.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("demo", help="fit the built-in use cases and a batch of 10,000 fits")
    args = parser.parse_args(argv)
    if args.cmd == "demo":
        from .demo import main as demo_main

        demo_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
