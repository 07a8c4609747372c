"""Bad inputs of class 'sc' (tests/bad_inputs_catalogue.py): each gets a clear error naming
the argument or file, the offending value and what was expected (or a defined result)."""

from __future__ import annotations

import pytest

from tests.bad_inputs_catalogue import Ctx, assert_handled, cases_of


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Ctx:
    return Ctx(tmp_path_factory.mktemp("bad_sc"))


@pytest.mark.parametrize("case", cases_of("sc"), ids=lambda c: c.name)
def test_bad_sc_input_is_refused_clearly(case, ctx: Ctx) -> None:
    assert_handled(case, ctx)
