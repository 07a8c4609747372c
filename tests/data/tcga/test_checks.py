"""The real-data check of chapters 5 and 6 (survlib.data.tcga.check_real_data): which cohorts
were chosen, which manifest entries are missing from the cache, and what the reader is told."""

from __future__ import annotations

import pytest

from survlib.data.tcga import check_real_data

ENTRIES = {"lihc": ["survpgc_lihc_clinical"], "brca": ["survpgc_brca_splits_?"]}


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    """A data cache with nothing in it."""
    monkeypatch.setenv("SURVLIB_DATA_DIR", str(tmp_path))
    return tmp_path


def test_missing_entries_are_listed_with_the_cache_folder(empty_cache) -> None:
    check = check_real_data(" LIHC, brca ,", ENTRIES, extra=["survpgc_prompt_template_1"])
    assert check.cohorts == ["lihc", "brca"]
    assert not check.available
    assert check.missing == ["survpgc_lihc_clinical"] + [
        f"survpgc_brca_splits_{k}" for k in range(5)
    ] + ["survpgc_prompt_template_1"]
    assert str(empty_cache) in check.message and "survlib fetch --import" in check.message
    assert f"`{check.missing[0]}`" in check.message
    assert check_real_data(["lihc"], ENTRIES).cohorts == ["lihc"]  # a sequence works too


def test_a_pattern_matching_no_entry_is_missing_itself(empty_cache) -> None:
    check = check_real_data("lihc", {"lihc": ["no_such_entry_*"]})
    assert check.missing == ["no_such_entry_*"] and not check.available


def test_no_cohort_chosen_is_not_available(empty_cache) -> None:
    check = check_real_data("", ENTRIES)
    assert check.cohorts == [] and check.missing == [] and not check.available
    assert "(no cohort chosen)" in check.message


def test_unknown_cohort_is_named() -> None:
    with pytest.raises(ValueError, match=r"unknown cohort\(s\) \['stad'\]; choose from"):
        check_real_data("lihc,stad", ENTRIES)
