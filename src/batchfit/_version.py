"""The package version (one place; ``batchfit.__version__`` re-exports it)."""

__version__ = "0.1.0"
