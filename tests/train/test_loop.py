"""The one training loop (survlib.train.loop.fit): early stopping, restoring the best weights,
non-finite losses, known answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from survlib import train as tr
from survlib.survival import concordance, cox_partial_likelihood

# ------------------------------------------------------------------------------------------
# fit
# ------------------------------------------------------------------------------------------


class Scalar(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(()))


def test_fit_early_stopping_restores_best(tmp_path):
    """SGD on loss = -w moves w up by 1 per epoch; val loss (w - 3)^2 is best at epoch 3."""
    model = Scalar()
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    ckpt = tmp_path / "ckpt" / "best.pt"
    res = tr.fit(
        model,
        opt,
        train_batches=lambda epoch: [None],
        loss_fn=lambda m, batch: -m.w,
        val_loss=lambda m: float((m.w - 3.0) ** 2),
        max_epochs=50,
        patience=2,
        progress=False,
        checkpoint=ckpt,
    )
    assert res.best_epoch == 3
    assert res.n_epochs == 5  # epochs 4 and 5 do not improve -> stop
    assert model.w.item() == pytest.approx(3.0)  # best weights restored, not epoch 5's
    assert list(res.history.columns) == ["epoch", "train_loss", "val_loss"]
    assert res.history["epoch"].tolist() == [1, 2, 3, 4, 5]
    assert res.history["val_loss"].tolist() == [4.0, 1.0, 0.0, 1.0, 4.0]
    assert res.best_loss == 0.0 and res.seconds >= 0
    saved = torch.load(ckpt)
    assert saved["epoch"] == 3 and saved["state_dict"]["w"].item() == pytest.approx(3.0)
    assert [p.name for p in ckpt.parent.iterdir()] == ["best.pt"]  # no temp files left


def test_fit_min_delta_and_no_val():
    model = Scalar()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    # training loss (w - 1)^2 decreases ever more slowly; min_delta stops it early
    res = tr.fit(
        model,
        opt,
        lambda e: [None],
        lambda m, b: (m.w - 1.0) ** 2,
        max_epochs=200,
        patience=3,
        min_delta=1e-3,
        progress=False,
    )
    assert res.n_epochs < 200 and np.isnan(res.history["val_loss"]).all()
    assert 1 <= res.best_epoch <= res.n_epochs


def test_fit_non_finite_loss_names_epoch():
    model = Scalar()
    opt = torch.optim.SGD(model.parameters(), lr=1.0)

    def loss_fn(m, batch):
        return m.w * 0 + (float("nan") if batch == 2 else 1.0)

    with pytest.raises(RuntimeError, match="epoch 3"):
        tr.fit(model, opt, lambda e: [e], loss_fn, max_epochs=5, progress=False)


def test_fit_learns_planted_linear_risk():
    """A linear Cox model recovers a planted linear risk (simulated data): test C-index high."""
    rng = np.random.default_rng(0)
    n, p = 300, 5
    x = rng.normal(size=(n, p)).astype(np.float32)
    beta = np.array([1.0, -0.8, 0.5, 0.0, 0.0], dtype=np.float32)
    t_event = rng.exponential(20.0 * np.exp(-(x @ beta)))
    t_cens = rng.uniform(0, 60, size=n)
    time = np.minimum(t_event, t_cens).astype(np.float32)
    event = (t_event <= t_cens).astype(np.int64)
    split = tr.cv_splits(event, n_folds=4, seed=0)[0]

    tr.seed_everything(0)
    model = torch.nn.Linear(p, 1)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    xt, tt, et = torch.from_numpy(x), torch.from_numpy(time), torch.from_numpy(event)

    def loss_fn(m, idx):
        return cox_partial_likelihood(m(xt[idx]), tt[idx], et[idx])

    def batches(epoch):  # two shuffled mini-batches per epoch
        perm = np.random.default_rng(epoch).permutation(split.train)
        return np.array_split(perm, 2)

    res = tr.fit(
        model,
        opt,
        batches,
        loss_fn,
        val_loss=lambda m: loss_fn(m, split.val).item(),
        max_epochs=60,
        patience=10,
        grad_clip=5.0,
        progress=False,
    )
    with torch.no_grad():
        risk = model(xt[split.test]).squeeze(1).numpy()
    assert concordance(risk, time[split.test], event[split.test]) > 0.7
    w = model.weight.detach().numpy().ravel()
    assert np.corrcoef(w, beta)[0, 1] > 0.9
    assert res.best_epoch >= 1


def test_fit_works_with_lbfgs():
    torch.manual_seed(0)
    x = torch.randn(50, 2)
    y = x @ torch.tensor([2.0, -1.0])
    model = torch.nn.Linear(2, 1, bias=False)
    opt = torch.optim.LBFGS(model.parameters(), line_search_fn="strong_wolfe")
    tr.fit(
        model,
        opt,
        lambda e: [None],
        lambda m, b: ((m(x).squeeze(1) - y) ** 2).mean(),
        max_epochs=3,
        progress=False,
    )
    torch.testing.assert_close(
        model.weight.detach().squeeze(), torch.tensor([2.0, -1.0]), atol=1e-4, rtol=0
    )
