"""GRU sequence regressor: the network (:class:`GRUNet`) apart from its trainer."""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from kilo.config import GRUConfig
from kilo.errors import UNREADABLE_FILE_ERRORS, ModelSetError
from kilo.models.gru_samples import (
    Samples,
    loss_rows,
    make_samples,
    weighted_loss,
    window_ends,
    windows,
)

__all__ = ["GRUNet", "GRURegressor", "resolve_device", "window_ends"]

#: What loading a damaged file raises (other errors propagate):
#: torch raises RuntimeError for a state_dict of another shape.
LOAD_ERRORS: tuple[type[Exception], ...] = (*UNREADABLE_FILE_ERRORS, RuntimeError)

logger = logging.getLogger(__name__)

WEIGHTS_FILE = "gru.pt"
PARAMS_FILE = "gru.json"
#: Windows per forward pass in :meth:`GRURegressor.predict`; the last pass is padded to
#: it, so a row's prediction is the same to the bit whatever rows follow it.
PREDICT_BATCH = 256
#: Windows per forward pass when the trader scores one bar: 1/32 of the work of a
#: :data:`PREDICT_BATCH` pass. Passes of 4 or more windows round as 256 do on x86 CPUs
#: (MKL's matrix kernels); 1 or 2 take the matrix-vector ones, up to 1e-5 relative apart.
SERVE_BATCH = 8


def resolve_device(name: str) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; other names are passed to torch."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


class GRUNet(nn.Module):
    """``nn.GRU`` over a window, then a linear head on the last hidden state.

    Input ``[batch, sequence_length, n_features]`` float32; output ``[batch]``
    (:meth:`sequence`: the head on every hidden state, ``[batch, time]``).
    """

    def __init__(self, n_features: int, hidden_size: int, num_layers: int, dropout: float):
        super().__init__()
        self.gru = nn.GRU(
            n_features,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.gru(x)
        return self._readout(out[:, -1])

    def sequence(self, x: torch.Tensor) -> torch.Tensor:
        """Output after every row: ``[batch, time, n_features]`` -> ``[batch, time]``."""
        out, _ = self.gru(x)
        return self._readout(out)

    def _readout(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(hidden)).squeeze(-1)


class GRURegressor:
    """Fit, predict, save and load a :class:`GRUNet` on windows of feature rows.

    The prediction for row ``t`` is the output over the window of rows
    ``t - sequence_length + 1 .. t`` of ``X`` from a zero state. Training follows
    ``params.mode`` (:mod:`kilo.models.gru_samples`): on those windows, or on chunks of
    contiguous rows with the loss after a burn-in of ``sequence_length - 1`` rows.
    Windows and chunks are gathered per batch from the row tensor, never materialised
    for the whole set. Rows whose ``y`` is NaN serve only as context, e.g. rows before
    a validation split.

    Parameters
    ----------
    params
        The ``models.gru`` config section.
    seed
        Seeds weight initialisation and batch shuffling.
    """

    def __init__(self, params: GRUConfig, seed: int = 0) -> None:
        self.params = params
        self.seed = seed
        self.net_: GRUNet | None = None
        self.n_features_: int | None = None
        self.history_: list[dict[str, float]] = []

    @property
    def device(self) -> torch.device:
        return resolve_device(self.params.device)

    def _loss(self) -> nn.Module:
        """Per-sample loss (weighted and averaged by the caller)."""
        if self.params.loss == "huber":
            return nn.HuberLoss(delta=1.0, reduction="none")
        return nn.MSELoss(reduction="none")

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        X_val: np.ndarray | None = None,
        y_val: np.ndarray | None = None,
        weights: np.ndarray | None = None,
        val_weights: np.ndarray | None = None,
        segments: np.ndarray | None = None,
        val_segments: np.ndarray | None = None,
        epochs: int | None = None,
        progress: bool = True,
    ) -> GRURegressor:
        """Train with Adam on a weighted loss.

        With validation rows, early stopping on the validation loss restores the best
        weights (``best_epochs_`` records how many epochs made them); without, exactly
        ``epochs`` epochs are run (a refit on more rows with a count chosen before).

        Parameters
        ----------
        X, X_val
            Arrays of shape (n_rows, n_features), float32, preprocessed feature rows.
        y, y_val
            Arrays of shape (n_rows,), labels; NaN marks context rows.
        weights, val_weights
            Arrays of shape (n_rows,), per-row sample weights (default 1).
        segments, val_segments
            Arrays of shape (n_rows,), int, equal along each stretch of contiguous rows
            (default: one stretch). Sequence mode's chunks never span two; window mode
            ignores them.
        epochs
            Epochs to run; default ``params.epochs`` (the maximum with early stopping).

        Raises
        ------
        ValueError
            If no full window (in a segment, in sequence mode) with a finite target
            exists in a given set, or a segments array does not match its labels.
        """
        p = self.params
        epochs = epochs or p.epochs
        ends = loss_rows(p, y, segments)
        val_ends = None if y_val is None else loss_rows(p, y_val, val_segments)
        if len(ends) == 0 or (val_ends is not None and len(val_ends) == 0):
            raise ValueError(f"need rows beyond one window of {p.sequence_length} to train")
        torch.manual_seed(self.seed)
        device = self.device
        self.n_features_ = X.shape[1]
        net = GRUNet(self.n_features_, p.hidden_size, p.num_layers, p.dropout).to(device)
        # targets are scaled to unit std for the optimiser, undone in predict
        self.target_scale_ = float(np.nanstd(y[ends])) or 1.0
        train = make_samples(p, X, y / self.target_scale_, weights, segments, device)
        val = None
        if X_val is not None and y_val is not None:
            scaled = y_val / self.target_scale_
            val = make_samples(p, X_val, scaled, val_weights, val_segments, device)
        optimiser = torch.optim.Adam(
            net.parameters(), lr=p.learning_rate, weight_decay=p.weight_decay
        )
        loss_fn = self._loss()
        generator = torch.Generator().manual_seed(self.seed)
        best, best_state, stale = float("inf"), copy.deepcopy(net.state_dict()), 0
        self.history_, self.best_epochs_ = [], epochs
        bar = tqdm(range(epochs), desc="GRU", unit="epoch", disable=not progress, leave=False)
        for epoch in bar:
            net.train()
            total = 0.0
            for batch in train.batches(generator):
                optimiser.zero_grad(set_to_none=True)
                prediction, target, weight, count = train.outputs(net, batch)
                loss = weighted_loss(loss_fn(prediction, target), weight)
                loss.backward()
                nn.utils.clip_grad_norm_(net.parameters(), 1.0)
                optimiser.step()
                total += loss.item() * count
            record = {"epoch": epoch, "train_loss": total / train.n_loss_rows}
            if val is not None:
                record["val_loss"] = val_loss = self._evaluate(net, val, loss_fn)
                if val_loss < best - 1e-7:
                    best, best_state, stale = val_loss, copy.deepcopy(net.state_dict()), 0
                    self.best_epochs_ = epoch + 1
                else:
                    stale += 1
            self.history_.append(record)
            bar.set_postfix({k: f"{v:.4f}" for k, v in record.items() if k != "epoch"})
            if val is not None and stale >= p.patience:
                logger.info("GRU early stop at epoch %d (best val loss %.5f)", epoch, best)
                break
        if val is not None:
            net.load_state_dict(best_state)
        self.net_ = net.eval()
        self.best_val_loss_ = best if val is not None else float("nan")
        return self

    @staticmethod
    @torch.no_grad()
    def _evaluate(net: GRUNet, data: Samples, loss_fn: nn.Module) -> float:
        """Weighted mean loss over the loss rows of ``data``, one pass in order."""
        net.eval()
        total = weight_sum = 0.0
        for batch in data.batches(None):
            prediction, target, weight, _ = data.outputs(net, batch)
            total += float((loss_fn(prediction, target) * weight).sum())
            weight_sum += float(weight.sum())
        return total / weight_sum

    @torch.no_grad()
    def predict(self, X: np.ndarray, batch: int = PREDICT_BATCH) -> np.ndarray:
        """Predicted log return for every row that ends a full window.

        Parameters
        ----------
        X
            Array of shape (n_rows, n_features), float32.
        batch
            Windows per forward pass (:data:`SERVE_BATCH` to score a few bars).

        Returns
        -------
        ndarray of shape (n_rows,), float32; the first ``sequence_length - 1`` rows
        are NaN (no full window). Every forward pass holds ``batch``
        windows (the last padded with copies of its final one): CPU kernels round
        differently by batch shape, and a row's output must not depend on how many rows
        come after it (freqtrade's lookahead-analysis compares them exactly).

        Raises
        ------
        RuntimeError
            Before :meth:`fit` or :meth:`load`.
        ValueError
            If the number of features differs from training.
        """
        if self.net_ is None:
            raise RuntimeError("GRURegressor is not fitted; call fit() or load() first")
        if X.ndim != 2 or X.shape[1] != self.n_features_:
            raise ValueError(f"expected (n, {self.n_features_}) features, got {X.shape}")
        out = np.full(len(X), np.nan, dtype=np.float32)
        L = self.params.sequence_length
        if len(X) < L:
            return out
        device = next(self.net_.parameters()).device
        rows = torch.as_tensor(X, dtype=torch.float32, device=device)
        ends = torch.arange(L - 1, len(X), device=device)
        pad = -len(ends) % batch
        padded = torch.cat([ends, ends[-1:].expand(pad)])
        preds = [self.net_(windows(rows, b, L)) for b in padded.split(batch)]
        out[L - 1 :] = torch.cat(preds)[: len(ends)].cpu().numpy() * self.target_scale_
        return out

    def save(self, folder: Path) -> list[str]:
        """Write ``gru.pt`` (state_dict) and ``gru.json`` (hyper-parameters); return names."""
        if self.net_ is None:
            raise RuntimeError("nothing to save: the GRU is not fitted")
        folder = Path(folder)
        torch.save({k: v.cpu() for k, v in self.net_.state_dict().items()}, folder / WEIGHTS_FILE)
        meta = {
            "params": self.params.model_dump(mode="json"),
            "seed": self.seed,
            "n_features": self.n_features_,
            "target_scale": self.target_scale_,
            "best_val_loss": self.best_val_loss_,
            "best_epochs": self.best_epochs_,
            "history": self.history_,
        }
        (folder / PARAMS_FILE).write_text(json.dumps(meta, indent=2))
        return [WEIGHTS_FILE, PARAMS_FILE]

    @classmethod
    def load(cls, folder: Path, device: str = "cpu") -> GRURegressor:
        """Rebuild from :meth:`save`'s files with ``torch.load(weights_only=True)``.

        Raises
        ------
        ModelSetError
            If a file is missing or does not fit the saved hyper-parameters.
        """
        folder = Path(folder)
        try:
            meta = json.loads((folder / PARAMS_FILE).read_text())
            # a set saved before the modes existed was trained by window
            params = GRUConfig(**{"mode": "window", **meta["params"], "device": device})
            model = cls(params, seed=meta["seed"])
            net = GRUNet(meta["n_features"], params.hidden_size, params.num_layers, params.dropout)
            state = torch.load(folder / WEIGHTS_FILE, map_location="cpu", weights_only=True)
            net.load_state_dict(state)
        except LOAD_ERRORS as exc:
            raise ModelSetError(
                f"{folder}: cannot load the GRU ({type(exc).__name__}: {exc})"
            ) from exc
        model.net_ = net.to(model.device).eval()
        model.n_features_ = meta["n_features"]
        model.target_scale_ = meta["target_scale"]
        model.best_val_loss_ = meta["best_val_loss"]
        model.best_epochs_ = meta["best_epochs"]
        model.history_ = meta["history"]
        return model
