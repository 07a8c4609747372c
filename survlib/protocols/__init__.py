"""The chapters' experiments (the papers' tables and figures), shared by notebooks, benchmarks and
tests. Notebooks keep the story and call these.

Modules:

- :mod:`~survlib.protocols.scsurvival`: chapter 3, the time and memory of every scSurvival
  stage (:func:`benchmark_run`, :func:`linear_fit`).
- :mod:`~survlib.protocols.authors_comparison`: chapter 3's side-by-side with the authors'
  package, the tables of ``benchmarks/bench_vs_authors.py``'s JSON (:func:`side_by_side`).
"""

from survlib.protocols.scsurvival import MemorySampler, benchmark_run, linear_fit

__all__ = ["MemorySampler", "benchmark_run", "linear_fit"]
