"""survlib: the small, tested library behind the cancer survival modelling companion book.

Packages, bottom layer first (each imports only the ones above it in this list; the order is
the import-linter contract in ``pyproject.toml``, explained in CONTRIBUTING.md):

- :mod:`survlib._core`     device and seeds, input validation, atomic writes, paths, finite guards
- :mod:`survlib.survival`  losses (Cox partial likelihood, discrete-time NLL), time bins, metrics
- :mod:`survlib.train`     the one training loop (:func:`survlib.train.fit`) and cross-validation
- :mod:`survlib.wsi`       whole-slide images: open, tissue mask, tiling, patch encoders, features
- :mod:`survlib.data`      fetch (pooch + manifest), real TCGA tables, simulators, cohort containers
- :mod:`survlib.text`      clinical prompts and their sentence encoder
- :mod:`survlib.models`    MIL, omics, fusion, single-cell (ScSurvival), distillation (AMKD)
- :mod:`survlib.explain`, :mod:`survlib.plots`   attribution and risk cells; figures
- :mod:`survlib.protocols` the chapters' experiments, shared by notebooks, benchmarks and tests
- :mod:`survlib.runner`, :mod:`survlib.sweep`, :mod:`survlib.book`   papermill runner, Dask
  sweeps, glue and table helpers
- :mod:`survlib.parallel`, :mod:`survlib.bench`   executors; CPU threads and machine facts

Conventions: ``event = 1`` means death observed; times are in months; higher risk = worse outcome.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("survlib")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

__all__ = ["__version__"]
