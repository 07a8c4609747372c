"""Shared settings of the multimodal tests (not a test module)."""

#: A small simulated cohort: few genes, pathways and patch features, short bags.
SMALL = dict(n_genes=120, n_pathways=12, d_patch=8, patches_per_patient=(5, 12))
