"""One validation layer for every public boundary of survlib.

Each check raises an error whose message names the argument (or file), the offending
value(s) and what was expected, so that a user sees what to fix instead of a plausible but
wrong number, or a NaN loss three epochs later. The checks are vectorised (NumPy / torch, no
per-element Python), so the losses can call them on every batch at no measurable cost.

Rules, in one place:

- **Survival outcomes** (:func:`validate_survival`, :func:`check_time_event_tensors`): time
  numeric, finite and ``>= 0`` (months); event exactly 0 or 1 (``True``/``False`` accepted,
  1 = death observed); time and event of equal length.
- **pandas inputs** (:func:`align_by_index`): when two or more inputs of one call are pandas
  Series/DataFrames, they are aligned by their index labels (pandas' own rule) when their
  labels are the same set; when the label sets differ (or labels repeat), the call is refused.
  A plain array next to a Series is taken by position.
- **Probabilities** (:func:`check_probabilities`) lie in ``[0, 1]``; **survival curves**
  (:func:`check_survival_curves`) are, in addition, non-increasing along time (a tolerance of
  ``1e-6`` absorbs rounding).
- **Bin indices** (:func:`check_bin_indices`) are integral (``2.0`` is fine, ``2.7`` is not)
  and within ``[0, n_bins - 1]``.
- **Feature arrays** (:func:`check_features`) are finite, of the declared shape.
- **Clinical fields** (:func:`check_clinical_value`): the missing-value rule is that ``None``,
  NaN, ``pd.NA``, ``pd.NaT`` and the strings in :data:`MISSING_STRINGS` (case-insensitive,
  e.g. ``""``, ``"nan"``, ``"<NA>"``, ``"not reported"``, ``"--"``) mean *missing*; a missing value
  reads "The <field> is not reported.". Numeric fields (age in years, tumour size in cm) must
  otherwise be finite numbers in their range (age in ``[0, 130]``, size ``>= 0``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "MISSING_STRINGS",
    "align_by_index",
    "censorship_to_event",
    "check_bin_indices",
    "check_clinical_value",
    "check_features",
    "check_finite_number",
    "check_probabilities",
    "check_survival_curves",
    "check_time_event_tensors",
    "is_missing",
    "require_columns",
    "validate_survival",
]

#: Strings that mean "missing" in a clinical table (compared lower-cased and stripped).
MISSING_STRINGS = frozenset(
    {
        "",
        "not reported",
        "unknown",
        "unkown",
        "nan",
        "none",
        "na",
        "n/a",
        "<na>",
        "nat",
        "null",
        "--",
        "'--",
    }
)

#: Numeric clinical fields: (unit, lowest, highest) of a valid value.
NUMERIC_CLINICAL = {"age": ("years", 0.0, 130.0), "size": ("cm", 0.0, math.inf)}


def _first(idx: np.ndarray, k: int = 5) -> str:
    idx = np.asarray(idx).ravel()
    shown = ", ".join(str(i) for i in idx[:k])
    return shown + (f", ... ({idx.size} in all)" if idx.size > k else "")


def _values(a: np.ndarray, idx: np.ndarray, k: int = 5) -> str:
    vals = np.unique(np.asarray(a).ravel()[np.asarray(idx).ravel()])
    return ", ".join(repr(v.item() if hasattr(v, "item") else v) for v in vals[:k])


def require_columns(df: pd.DataFrame, columns: Iterable[str], where: str = "table") -> None:
    """Raise ``KeyError`` naming every column of ``columns`` missing from ``df``."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise KeyError(
            f"{where} is missing column(s) {missing}; available columns: {list(df.columns)}"
        )


def check_finite_number(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
) -> float:
    """``value`` as a float, refusing NaN, infinity, non-numbers and values out of range."""
    try:
        x = float(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a number, got {value!r}") from err
    if not math.isfinite(x):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if low is not None and (x <= low if low_open else x < low):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low:g}, got {value!r}")
    if high is not None and x > high:
        raise ValueError(f"{name} must be <= {high:g}, got {value!r}")
    return x


def align_by_index(**inputs: Any) -> dict[str, Any]:
    """Align the pandas inputs of one call by index (see the module rules).

    Args:
        **inputs: ``name=value``; values that are not pandas objects pass unchanged.

    Returns:
        The same mapping, with every pandas input re-ordered to the first one's index.

    Raises:
        ValueError: two pandas inputs whose index labels are not the same set (or repeat).
    """
    named = [(k, v) for k, v in inputs.items() if isinstance(v, pd.Series | pd.DataFrame)]
    if len(named) < 2:
        return dict(inputs)
    ref_name, ref = named[0]
    out = dict(inputs)
    for name, value in named[1:]:
        if value.index.equals(ref.index):
            continue
        same = (
            len(value.index) == len(ref.index)
            and ref.index.is_unique
            and value.index.is_unique
            and set(value.index) == set(ref.index)
        )
        if not same:
            only_a = [x for x in ref.index if x not in set(value.index)][:3]
            only_b = [x for x in value.index if x not in set(ref.index)][:3]
            raise ValueError(
                f"{name} and {ref_name} are pandas objects whose indices disagree "
                f"(only in {ref_name}: {only_a}; only in {name}: {only_b}; or repeated labels): "
                f"align them (e.g. {name}.loc[{ref_name}.index]) or pass plain arrays"
            )
        out[name] = value.loc[ref.index]
    return out


def validate_survival(
    time: Sequence[float] | np.ndarray,
    event: Sequence[int] | np.ndarray,
    name: str = "survival data",
    allow_zero_time: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Check and convert survival outcomes.

    Args:
        time: follow-up times in months; numeric, finite and non-negative.
        event: 1 if the event (death) was observed, 0 if censored. Booleans are accepted.
        name: what the data is called in error messages.
        allow_zero_time: if False, times must be strictly positive.

    Returns:
        ``(time, event)`` as ``float64`` and ``int64`` arrays.

    Raises:
        ValueError: naming the problem (length mismatch, non-numeric, NaN, negative time,
            event not in {0, 1}, no observed event).
    """
    aligned = align_by_index(time=time, event=event)
    t = np.asarray(aligned["time"])
    e = np.asarray(aligned["event"])
    if t.ndim == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if e.ndim == 2 and e.shape[1] == 1:
        e = e[:, 0]
    if t.ndim != 1 or e.ndim != 1:
        raise ValueError(f"{name}: time and event must be 1-D, got shapes {t.shape} and {e.shape}")
    if t.shape[0] != e.shape[0]:
        raise ValueError(f"{name}: time has {t.shape[0]} values but event has {e.shape[0]}")
    if t.shape[0] == 0:
        raise ValueError(f"{name}: no samples (time and event are empty)")
    if t.dtype == bool:
        raise ValueError(f"{name}: time must be numeric (months), got booleans")
    try:
        t = t.astype(np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"{name}: time must be numeric (months); could not convert: {err}"
        ) from err
    bad = np.flatnonzero(~np.isfinite(t))
    if bad.size:
        raise ValueError(
            f"{name}: time has NaN or infinite values at rows {_first(bad)}; expected finite months"
        )
    bad = np.flatnonzero(t < 0) if allow_zero_time else np.flatnonzero(t <= 0)
    if bad.size:
        rule = "negative" if allow_zero_time else "non-positive"
        raise ValueError(
            f"{name}: time has {rule} values at rows {_first(bad)}: {_values(t, bad)}; "
            f"expected months {'>= 0' if allow_zero_time else '> 0'}"
        )
    if e.dtype == bool:
        e = e.astype(np.int64)
    try:
        e_num = e.astype(np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"{name}: event must be 0/1 (1 = death observed); got {e[:5].tolist()!r}"
        ) from err
    bad = np.flatnonzero(~np.isin(e_num, (0.0, 1.0)))
    if bad.size:
        raise ValueError(
            f"{name}: event must be 0/1 (1 = death observed); bad values at rows {_first(bad)}: "
            f"{_values(e_num, bad)}"
        )
    e = e_num.astype(np.int64)
    if e.sum() == 0:
        raise ValueError(f"{name}: no observed events (all censored); survival models need events")
    return t, e


def _event_ok(event: Any) -> Any:
    """0-d bool tensor: every event is exactly 0 or 1 (``e (e - 1) = 0``; NaN and inf fail)."""
    import torch

    if event.dtype == torch.bool:
        return torch.ones((), dtype=torch.bool, device=event.device)
    return ~(event * (event - 1)).any()


def _time_ok(time: Any) -> Any:
    """0-d bool tensor: every time is finite and >= 0 (NaN propagates through ``aminmax``)."""
    import torch

    lo, hi = torch.aminmax(time.detach())
    return (lo >= 0) & (hi < math.inf) if time.is_floating_point() else lo >= 0


def check_time_event_tensors(time: Any, event: Any, where: str) -> None:
    """Cheap check of a loss's ``time``/``event`` tensors: a few tensor ops and one device
    sync when valid (no per-element Python).

    ``time`` must be finite and ``>= 0``; ``event`` exactly 0 or 1 (bool accepted). Only when
    the combined test fails is the message built (naming the rows and values). ``time=None``
    checks the events only.
    """
    ok = _event_ok(event.detach())
    if time is not None and time.numel():
        ok = ok & _time_ok(time)
    if bool(ok):
        return
    if time is not None:
        t = time.detach().cpu().double().numpy()
        bad = np.flatnonzero(~np.isfinite(t))
        if bad.size:
            raise ValueError(
                f"{where}: time has NaN or infinite values at rows {_first(bad)}; "
                "expected finite months >= 0"
            )
        bad = np.flatnonzero(t < 0)
        if bad.size:
            raise ValueError(
                f"{where}: time has negative values at rows {_first(bad)}: "
                f"{_values(t, bad)}; expected months >= 0"
            )
    e = event.detach().cpu().double().numpy()
    bad = np.flatnonzero(~np.isin(e, (0.0, 1.0)))
    raise ValueError(
        f"{where}: event must be 0/1 (1 = death observed); bad values at rows "
        f"{_first(bad)}: {_values(e, bad)}"
    )


def check_bin_indices(bin_index: Any, n_bins: int, where: str, event: Any = None) -> None:
    """``bin_index`` (a tensor) integral and in ``[0, n_bins - 1]``; with ``event``, the events
    are checked too (0/1), in the same single device sync."""
    import torch

    if bin_index.dtype == torch.bool:
        raise ValueError(f"{where}: bin_index must hold integer bins, got booleans")
    y = bin_index.detach()
    lo, hi = torch.aminmax(y)
    ok = (lo >= 0) & (hi <= n_bins - 1)
    if y.is_floating_point():
        ok = ok & (y == torch.round(y)).all()
    if event is not None:
        ok = ok & _event_ok(event.detach())
    if bool(ok):
        return
    yn = y.cpu().double().numpy()
    bad = np.flatnonzero(~np.isfinite(yn) | (yn != np.round(yn)))
    if bad.size:
        raise ValueError(
            f"{where}: bin_index must be whole numbers (bins 0..{n_bins - 1}); "
            f"non-integral values at rows {_first(bad)}: {_values(yn, bad)}"
        )
    bad = np.flatnonzero((yn < 0) | (yn > n_bins - 1))
    if bad.size:
        raise ValueError(
            f"{where}: bin_index must lie in [0, {n_bins - 1}] for {n_bins} bins; "
            f"out-of-range values at rows {_first(bad)}: {_values(yn, bad)}"
        )
    check_time_event_tensors(None, event, where)


def check_probabilities(p: np.ndarray, name: str) -> np.ndarray:
    """``p`` finite and within ``[0, 1]`` (returned as float64)."""
    p = np.asarray(p, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(p))
    if bad.size:
        raise ValueError(
            f"{name} has NaN or infinite values at flat positions {_first(bad)}; "
            "expected probabilities in [0, 1]"
        )
    bad = np.flatnonzero((p < 0) | (p > 1))
    if bad.size:
        raise ValueError(
            f"{name} must be probabilities in [0, 1]; got {_values(p, bad)} at flat "
            f"positions {_first(bad)}"
        )
    return p


def check_survival_curves(s: np.ndarray, name: str, tol: float = 1e-6) -> np.ndarray:
    """``s`` ``[N, T]`` (or ``[T]``) survival probabilities, non-increasing along time."""
    s = check_probabilities(s, name)
    s2 = s.reshape(1, -1) if s.ndim == 1 else s
    if s2.ndim == 2 and s2.shape[1] > 1:
        rise = np.diff(s2, axis=1) > tol
        if rise.any():
            rows = np.flatnonzero(rise.any(axis=1))
            r = int(rows[0])
            raise ValueError(
                f"{name}: a survival curve must be non-increasing in time, but row(s) "
                f"{_first(rows)} rise (row {r}: {np.round(s2[r], 4).tolist()[:8]})"
            )
    return s


def check_features(
    x: Any,
    name: str,
    *,
    ndim: int = 2,
    shape: tuple[int | None, ...] | None = None,
    allow_empty: bool = False,
) -> np.ndarray:
    """A finite feature array of ``ndim`` dimensions and, where given, ``shape`` (None = any)."""
    a = np.asarray(x)
    if a.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {a.shape}")
    if shape is not None:
        for axis, want in enumerate(shape):
            if want is not None and a.shape[axis] != want:
                want_s = "[" + ", ".join("*" if w is None else str(w) for w in shape) + "]"
                raise ValueError(f"{name} must have shape {want_s}, got {a.shape}")
    if not allow_empty and a.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {a.shape}); expected at least one row")
    if a.dtype.kind in "fc" and a.size and not np.isfinite(a).all():
        rows = np.flatnonzero(~np.isfinite(a.reshape(a.shape[0], -1)).all(axis=1))
        raise ValueError(f"{name} has NaN or infinite values in rows {_first(rows)}")
    if a.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got dtype {a.dtype}")
    return a


def is_missing(value: Any) -> bool:
    """The clinical missing-value rule (module docstring)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating) and np.isnan(value):
        return True
    if isinstance(value, np.datetime64 | np.timedelta64) and np.isnat(value):
        return True
    return str(value).strip().lower() in MISSING_STRINGS


def check_clinical_value(field: str, value: Any, row: Any = None) -> Any:
    """Validate one clinical value: ``None`` if missing, else the value (a float for numeric
    fields). Raises ``ValueError`` naming the field, the row and the value."""
    if is_missing(value):
        return None
    where = f"clinical field {field!r}" + (f" (row {row!r})" if row is not None else "")
    if field in NUMERIC_CLINICAL:
        unit, low, high = NUMERIC_CLINICAL[field]
        if isinstance(value, bool | np.bool_):
            raise ValueError(f"{where}: expected a number of {unit}, got {value!r}")
        try:
            x = float(value)
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"{where}: expected a number of {unit} or a missing value, got {value!r}"
            ) from err
        if not math.isfinite(x) or x < low or x > high:
            raise ValueError(f"{where}: expected {unit} in [{low:g}, {high:g}], got {value!r}")
        return x
    return value


def censorship_to_event(censorship: Sequence[int] | np.ndarray) -> np.ndarray:
    """Convert the reference codes' ``censorship = 1`` (alive) coding to ``event = 1`` (death).

    Done once, at the loading boundary, so the rest of survlib only ever sees ``event``.
    """
    c = np.asarray(censorship).astype(np.float64)
    if not np.isin(c, (0.0, 1.0)).all():
        bad = np.flatnonzero(~np.isin(c, (0.0, 1.0)))
        raise ValueError(
            f"censorship must be 0/1 (1 = censored/alive); bad values at rows "
            f"{_first(bad)}: {_values(c, bad)}"
        )
    return (1 - c).astype(np.int64)
