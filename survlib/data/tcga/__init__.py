"""Real TCGA cohorts in the SurvPath / SurvPGC file formats: patients, modalities, splits, bags.

The SurvPath (Jaume et al., CVPR 2024) and SurvPGC (Hou et al., npj Digit. Med. 2025)
repositories ship the same kinds of tables (the manifest entries ``survpgc_<cohort>_*``,
``survpath_<cohort>_rna``, ``survpath_combine_signatures``):

* ``metadata`` — one row **per slide**: ``case_id``, ``slide_id``, ``age``,
  ``survival_months``, ``censorship`` (1 = censored), ``is_female``, ``oncotree_code``, ...;
* ``clinical`` — ``case_id``, ``stage``, ``grade``, ``subtype`` (a few patients twice);
* ``rna`` — one row per sample, first column the case id, genes as columns;
* ``signatures`` — one column per pathway, member genes down the rows;
* ``prompts`` — SurvPGC's sentences: ``patient_id`` then one column per clinical field;
* ``splits_<k>`` — columns ``train``, ``val`` (and in SurvPGC's files ``test``, equal to ``val``).

:func:`read_cohort` turns them into one :class:`~survlib.data.multimodal.MultimodalCohort`
with one row per patient (``event = 1 - censorship``, times in months), keeping only patients
present in every modality given and recording who was dropped and why in
``cohort.attrs["dropped"]``. :func:`read_splits` turns the split files into the book's
:class:`~survlib.train.Split` folds, under the published protocol (selection on the test fold)
or honestly (validation carved from the training fold). :func:`attach_slide_features` gives a
cohort its bags from a folder of CLAM/TRIDENT-style ``.h5`` feature files. :func:`load_cohort`
does all of it through :func:`~survlib.data.fetch.fetch`.

Modules:

- :mod:`~survlib.data.tcga.tables`: reading the authors' CSVs (metadata, clinical, RNA,
  signatures, prompts), with errors that name the file and the problem;
- :mod:`~survlib.data.tcga.cohort`: :func:`read_cohort` (one row per patient, the modalities
  intersected, ``attrs["dropped"]``), :func:`prompt_fields`, :func:`clinical_covariates`;
- :mod:`~survlib.data.tcga.splits`: :func:`read_splits` (published or honest protocol) and
  :func:`describe_splits`;
- :mod:`~survlib.data.tcga.loading`: through fetch: :data:`SOURCES`, :data:`RNA_COHORTS`,
  :data:`TEMPLATE_COUNTS`, :func:`cohort_entries`, :func:`missing_entries`,
  :func:`load_cohort`, :func:`split_files`, :func:`load_splits`;
- :mod:`~survlib.data.tcga.checks`: :func:`check_real_data` (can a chapter's real-data section
  run?) and its :class:`RealDataCheck`.

:func:`attach_slide_features` (from :mod:`survlib.data.slide_features`) is re-exported here.
"""

from survlib.data.slide_features import attach_slide_features
from survlib.data.tcga.checks import RealDataCheck, check_real_data
from survlib.data.tcga.cohort import clinical_covariates, prompt_fields, read_cohort
from survlib.data.tcga.loading import (
    RNA_COHORTS,
    SOURCES,
    TEMPLATE_COUNTS,
    cohort_entries,
    load_cohort,
    load_splits,
    missing_entries,
    split_files,
)
from survlib.data.tcga.splits import describe_splits, read_splits

__all__ = [
    "RNA_COHORTS",
    "SOURCES",
    "TEMPLATE_COUNTS",
    "RealDataCheck",
    "attach_slide_features",
    "check_real_data",
    "clinical_covariates",
    "cohort_entries",
    "describe_splits",
    "load_cohort",
    "load_splits",
    "missing_entries",
    "prompt_fields",
    "read_cohort",
    "read_splits",
    "split_files",
]
