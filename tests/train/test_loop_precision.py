"""fit's precision option: the default path is bit-identical to a plain optimiser loop, and
bf16 autocast (on CPU here; the same code path runs on CUDA) keeps the numbers of a small Cox
model within a tolerance of float32."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from survlib import train as tr
from survlib._core.device import PRECISION_ENV
from survlib.survival import concordance, cox_partial_likelihood

N_PATIENTS, N_FEATURES, EPOCHS, BATCH = 192, 8, 15, 64
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(autouse=True)
def _no_precision_env(monkeypatch):
    """A SURVLIB_PRECISION set in the caller's shell must not change these tests."""
    monkeypatch.delenv(PRECISION_ENV, raising=False)


def _cohort() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Planted linear risk: hazard exp(x @ beta), exponential times, ~25 % censored."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N_PATIENTS, N_FEATURES))
    beta = np.linspace(1.0, -1.0, N_FEATURES)
    time = rng.exponential(np.exp(-x @ beta))
    censor = rng.exponential(np.quantile(time, 0.8), size=N_PATIENTS)
    event = time <= censor
    return (
        torch.as_tensor(x, dtype=torch.float32),
        torch.as_tensor(np.minimum(time, censor), dtype=torch.float32),
        torch.as_tensor(event),
    )


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(N_FEATURES, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1)
    )


def _batches(epoch: int) -> list[torch.Tensor]:
    """The same shuffled minibatches for every run (seeded by the epoch)."""
    order = torch.randperm(N_PATIENTS, generator=torch.Generator().manual_seed(epoch))
    return list(order.split(BATCH))


def _train(precision: str | None = "unset", seen_dtypes: list | None = None):
    x, t, e = _cohort()
    model = _model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)

    def loss_fn(m: torch.nn.Module, idx: torch.Tensor) -> torch.Tensor:
        out = m(x[idx]).squeeze(-1)
        if seen_dtypes is not None:
            seen_dtypes.append(out.dtype)
        return cox_partial_likelihood(out, t[idx], e[idx])

    kwargs = {} if precision == "unset" else {"precision": precision}
    result = tr.fit(
        model, opt, _batches, loss_fn, max_epochs=EPOCHS, patience=None, progress=False, **kwargs
    )
    return model, result


def _plain_loop() -> torch.nn.Module:
    """What fit did before the option existed: zero_grad, loss, backward, step per batch."""
    x, t, e = _cohort()
    model = _model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for epoch in range(EPOCHS):
        model.train()
        for idx in _batches(epoch):
            opt.zero_grad(set_to_none=True)
            cox_partial_likelihood(model(x[idx]).squeeze(-1), t[idx], e[idx]).backward()
            opt.step()
    return model


def test_default_precision_is_bit_identical_to_a_plain_loop():
    reference = _plain_loop()
    seen: list = []
    default, result = _train(seen_dtypes=seen)
    explicit, _ = _train("fp32")
    assert result.precision == "fp32"
    assert set(seen) == {torch.float32}
    for ref, a, b in zip(
        reference.parameters(), default.parameters(), explicit.parameters(), strict=True
    ):
        assert torch.equal(ref, a) and torch.equal(ref, b)


def test_bf16_autocast_keeps_the_numbers_of_a_cox_model():
    x, t, e = _cohort()
    fp32, res32 = _train("fp32")
    seen: list = []
    bf16, res16 = _train("bf16", seen_dtypes=seen)
    assert res16.precision == "bf16"
    assert set(seen) == {torch.bfloat16}  # the forward pass really ran under autocast
    for p in bf16.parameters():  # the weights and the optimiser stay in float32
        assert p.dtype == torch.float32
    with torch.no_grad():
        risk32, risk16 = fp32(x).squeeze(-1), bf16(x).squeeze(-1)
        loss32 = float(cox_partial_likelihood(risk32, t, e))
        loss16 = float(cox_partial_likelihood(risk16, t, e))
    assert not torch.equal(risk32, risk16)  # bf16 did change the arithmetic...
    assert loss16 == pytest.approx(loss32, rel=0.02)  # ...but not the fit
    assert np.corrcoef(risk32.numpy(), risk16.numpy())[0, 1] > 0.99
    c32 = concordance(risk32.numpy(), t.numpy(), e.numpy())
    c16 = concordance(risk16.numpy(), t.numpy(), e.numpy())
    assert c32 > 0.7 and abs(c16 - c32) < 0.01
    hist32, hist16 = res32.history["train_loss"].to_numpy(), res16.history["train_loss"]
    np.testing.assert_allclose(hist16.to_numpy(), hist32, rtol=0.05)


def test_precision_from_the_environment(monkeypatch):
    monkeypatch.setenv(PRECISION_ENV, "bf16")
    seen: list = []
    _, result = _train(None, seen_dtypes=seen)
    assert result.precision == "bf16" and set(seen) == {torch.bfloat16}
    _, result = _train("fp32")  # an explicit choice wins over the environment
    assert result.precision == "fp32"
    monkeypatch.setenv(PRECISION_ENV, "fp16")
    steps: list = []
    with pytest.raises(ValueError, match="SURVLIB_PRECISION"):
        model = _model()
        tr.fit(
            model,
            torch.optim.SGD(model.parameters(), lr=0.1),
            lambda epoch: [None],
            lambda m, b: steps.append(b) or m[0].weight.sum(),
            progress=False,
        )
    assert steps == []  # refused before any step
