"""survlib: the small, tested library behind the cancer survival modelling companion book.

Modules (one obvious place for each thing):

- :mod:`survlib.data`      fetch (pooch + manifest), simulators, bundled datasets, validation
- :mod:`survlib.survival`  losses (Cox partial likelihood, discrete-time NLL), time bins, metrics
- :mod:`survlib.train`     the one training loop and the cross-validation protocol
- :mod:`survlib.models`    model families (MIL, omics, fusion, single-cell, distillation)
- :mod:`survlib.wsi`       whole-slide images: open, tissue mask, tiling, patch encoders
- :mod:`survlib.plots`     KM curves, heat maps, result tables
- :mod:`survlib.book`      glue helpers used by the notebooks
- :mod:`survlib.runner`    papermill runner behind ``survlib run``
- :mod:`survlib.sweep`     parameter sweeps on Dask behind ``survlib sweep``
- :mod:`survlib.parallel`  serial / ``concurrent.futures`` / Dask executors for independent tasks

Conventions: ``event = 1`` means death observed; times are in months; higher risk = worse outcome.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("survlib")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

__all__ = ["__version__"]
