"""``batchfit fit``: fit a built-in model to every dataset of a file.

::

    batchfit fit DATA --model NAME [--x X] [--shared p1,p2] [--param SPEC ...]
                 [--weights W] [--dtype float32|float64] [--chunk-size N]
                 [--out RESULTS] [--progress | --no-progress]

Input (``DATA``), one dataset per row:

- ``.npy``: an array (N, m) of N datasets of m points ((m,) is one dataset;
  with ``--shared``, (K, m) is one group of K datasets and (G, K, m) is G
  groups). Read with ``allow_pickle=False``.
- ``.npz``: arrays by name: the data is ``--data-key`` (default: ``data``,
  or the only array); x is ``--x-key`` (default: ``x`` when present).
- ``.h5``/``.hdf5`` (needs h5py): datasets by path, the same keys.
- ``.csv``: comma-separated numbers, one dataset per row and one point per
  column. A first line with a field that is not a number is a header (names,
  otherwise ignored); lines starting with ``#`` are comments. Empty fields
  and rows shorter than the longest are missing points (NaN), which the fit
  leaves out: datasets of unequal length. With ``--layout columns`` the file
  is transposed: a header row names the columns, ``--x NAME`` is the column
  of x values and every other column is one dataset (its name is kept in a
  ``label`` column of the results).

``--x`` is a file (.npy, .npz, .csv, .h5) holding x of shape (m,) or one
row per dataset; or ``first-row`` (the first row of a .csv holds x, the
datasets follow); or a column name (``--layout columns``); or an array name
in the data .npz/.h5. Without it x is the data file's ``x`` array if there
is one, else 0, 1, ..., m-1. ``--weights`` (multiplying the residual,
1/sigma) is read the same way (a file, or an array name in the data file);
its shape is (m,) or that of the data.

``--model`` is a name of :data:`batchfit.models.MODELS`, with constructor
options after colons, and components joined by ``+``:
``polynomial:degree=2``, ``gaussian+linear``,
``gaussian:prefix=g1_+gaussian:prefix=g2_+constant``. Starting values come
from the models' vectorised ``guess`` (one start per dataset; for a shared
parameter the median over the group's datasets), unless ``--no-guess``.
``--param NAME=VALUE[,min=LO][,max=HI][,vary=true|false][,expr=EXPR]``
overrides them (``NAME,min=0`` keeps the guessed value; ``expr`` comes last
and may contain commas). Guessed starts are clipped into the bounds.

Output (``--out``), chosen by the suffix:

- ``.csv`` (or ``.parquet`` with pandas and pyarrow or fastparquet): one
  row per fit, the columns of :meth:`FitResult.to_dataframe` (``fit``,
  each parameter and ``<name>_stderr``, ``chisqr``, ``redchi``, ``aic``,
  ``bic``, ``nfev``, ``ndata``, ``status``, ``success``, ``message``). With
  ``--shared``: one row per dataset (``group``, ``dataset``), shared values
  repeated over the group's datasets, the group's statistics
  (:meth:`GroupFitResult.to_dataframe`). .csv needs no pandas.
- ``.npz`` / ``.json``: :meth:`FitResult.save` (read back with
  :func:`batchfit.load_result`); with ``--shared`` the table's columns.

A report (:func:`batchfit.fit_report`; a summary for a batch) is printed at
the end. Errors in the input print one line ``batchfit fit: error: ...`` to
stderr and exit with status 2.
"""

from ._args import CLIError, add_parser, build_model, parse_param
from ._run import main, run
from ._writers import result_table, write_results

__all__ = ["CLIError", "add_parser", "build_model", "main", "parse_param", "result_table", "run",
           "write_results"]
