"""The contract every model kind meets: what the trainer, the model set, inference, the
blend, the pool and the evaluation ask of a kind.

A kind lives in its own file under :mod:`kilo.models.kinds` and is listed once in
:data:`kilo.models.kinds.KINDS`; nothing outside ``kilo.models`` names one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from kilo.config import Config


class SplitRows(Protocol):
    """Row ranges (positions) of train < validation < test."""

    @property
    def train(self) -> slice: ...

    @property
    def val(self) -> slice: ...

    @property
    def test(self) -> slice: ...


class FitData(Protocol):
    """What a kind reads of one symbol's data (:class:`kilo.training.dataset.Dataset`).

    ``features`` (n_rows, n_features) raw; ``target``, ``weights``, ``bar_returns``,
    ``forward_return`` (log return over the label horizon) and ``bar_funding`` shape
    (n_rows,); ``index`` the rows' candle open times (UTC).
    """

    @property
    def symbol(self) -> str: ...

    @property
    def features(self) -> pd.DataFrame: ...

    @property
    def target(self) -> np.ndarray: ...

    @property
    def weights(self) -> np.ndarray: ...

    @property
    def bar_returns(self) -> np.ndarray: ...

    @property
    def forward_return(self) -> np.ndarray: ...

    @property
    def bar_funding(self) -> np.ndarray: ...

    @property
    def split(self) -> SplitRows: ...

    @property
    def index(self) -> pd.DatetimeIndex: ...


class KindReport(BaseModel):
    """Base of a kind's row in the manifest's metrics (frozen, no extra keys)."""

    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="constants")

    @property
    def collapsed(self) -> bool:
        """Whether the model degenerated on validation (a policy taking one action); a
        retraining never promotes a set with a collapsed model."""
        return False


@dataclass(frozen=True)
class PortfolioState:
    """What a policy sees of its own position (see :class:`~kilo.rl.TradingEnv`).

    ``position`` in {-1, 0, 1}; ``unrealised`` the log return since entry;
    ``bars_held`` bars since entry.
    """

    position: float = 0.0
    unrealised: float = 0.0
    bars_held: int = 0


FLAT = PortfolioState()


@dataclass(frozen=True)
class Fitted:
    """A model as served, its outputs on the validation rows, and its manifest report.

    ``validation`` is, for a regressor, its predictions of shape (n_val,) from the
    model fit on the training rows only; for a policy, its own path over the rows
    (:class:`~kilo.rl.PolicyPath`).
    """

    model: Any
    validation: Any
    report: KindReport
    trained: Any = None

    @property
    def trained_model(self) -> Any:
        """The model fit on the training rows alone: ``trained``, or ``model`` when it is
        that model (no refit; a policy; a model reused or pooled)."""
        return self.model if self.trained is None else self.trained


@dataclass(frozen=True)
class Forecaster:
    """A served regressor as a policy observing forecasts calls it: ``predict(X, n_out)``
    returns its predictions (n_out,) for the last ``n_out`` rows of ``X`` ((n_rows,
    n_features) preprocessed), which needs ``context`` rows before them."""

    predict: Callable[[np.ndarray, int], np.ndarray]
    context: int


#: ``(config, data, X, y, rows, model) -> model``: a model like ``model`` (its parameters,
#: epochs or trees) fit on rows ``rows`` of ``X`` with the labels ``y`` (n_rows,) where
#: finite (cross-fitting leaves a block's labels out as NaN; the rows' features stay).
Refit = Callable[[Config, FitData, np.ndarray, np.ndarray, slice, Any], Any]


@dataclass(frozen=True)
class Upstream:
    """A regressor fit before a kind that reads it (a policy observing forecasts): the
    fitted models and its kind's functions to predict with one and to refit one like it
    (:mod:`kilo.models.forecasts` cross-fits with them)."""

    fitted: Fitted
    predict: Callable[[Any, np.ndarray, int], np.ndarray]
    context: Callable[[Any], int]
    refit: Refit

    def forecaster(self, model: Any) -> Forecaster:
        """``model`` (one of this kind) as a :class:`Forecaster`."""
        return Forecaster(lambda X, n_out: self.predict(model, X, n_out), self.context(model))


def regressor_outputs(validation: np.ndarray) -> tuple[np.ndarray, None]:
    """A regressor's validation predictions are already its outputs (no position)."""
    return np.asarray(validation), None


#: ``(config, [(member data, member's preprocessed X)], progress) -> model``: a
#: regressor fit on every pool member's training rows together.
PooledFit = Callable[[Config, Sequence[tuple[FitData, np.ndarray]], bool], Any]


@dataclass(frozen=True)
class ModelKind:
    """One model kind: how it is fit, validated, served, saved, reported and blended.

    Attributes
    ----------
    name : its key in ``models.enabled``, ``blend.weights``, the manifest, the model set
        and the evaluation's strategies
    label : its name in reports (``GRU``)
    signal : how its output becomes a blend signal: ``regressor`` (a predicted log
        return, shape (n,), standardised by its validation statistics:
        :func:`~kilo.blend.regressor_signal`; it has IC statistics and trades as a
        blend of itself alone) or ``policy`` (action probabilities, shape (n, N_ACTIONS), read
        with the queried position: :func:`~kilo.blend.ppo_signal`; it trades its own
        actions)
    report : the Pydantic type of its row in the manifest's metrics
    fit : ``(config, data, X, y, progress, upstream) -> Fitted`` on ``data.split`` (``X``
        (n_rows, n_features) preprocessed float32, ``y`` (n_rows,) labels); ``upstream``
        maps each regressor fit before it (with a :attr:`refit`) to an
        :class:`Upstream`, read by a kind that :attr:`observes` forecasts
    validate : ``(config, data, X, model) -> validation outputs`` of a model fit before
    predict : ``(model, X, n_out, state) -> outputs`` for the last ``n_out`` rows of
        ``X``: (n_out,) float32 for a regressor, (n_out, N_ACTIONS) for a policy
    context : ``model -> rows`` needed before the first predicted row
    config_context : ``config -> rows`` the kind would need, before it is fit
    load : ``(folder, trained config) -> model``; the model's own ``save(folder)``
        returns the file names it wrote (checksummed in the manifest)
    files : the file names its ``save`` writes (a save writing others is refused)
    columns : the ledger columns of its per-bar raw output (one per output value)
    monitored : the index in ``columns`` of the output the live drift measures watch
    as_outputs : ``validation -> (outputs, long)``: its validation output as
        :attr:`predict` returns outputs, with the position each row was queried with
        (a policy's own path; None for a regressor)
    shorts : ``model -> bool``: a policy whose own actions include a short
    fold_overrides : ``config -> overrides`` an evaluation fold trains it with (a cap on
        its budget: ``evaluation.max_ppo_timesteps``)
    timesteps : ``config -> timesteps`` of a policy's training, as the evaluation
        summary reports them (None for a kind without)
    packages : the packages whose versions decide how its files load and predict
    depends_on : the kinds a set must also hold for this kind to load
    pooled_fit : fits it on a universe (``training.pool``), None if it cannot be pooled
    score : ``(data, X, y, model, served, validation, refit) -> report`` of a pooled
        regressor on one member (None for a kind that cannot be pooled)
    refit : a regressor a policy may observe: :data:`Refit` (None: not observable)
    observes : ``config -> bool``: whether its fit and predictions read the set's
        observable regressors (their forecasts; fit after them, with their context)
    bind : ``(model, forecasters) -> None`` gives a model that observes forecasts the
        set's served regressors (name -> :class:`Forecaster`); raises ModelSetError
        naming a kind it observes that the set lacks (None for a kind that observes none)
    """

    name: str
    label: str
    signal: Literal["regressor", "policy"]
    report: type[KindReport]
    fit: Callable[[Config, FitData, np.ndarray, np.ndarray, bool, Mapping[str, Upstream]], Fitted]
    validate: Callable[[Config, FitData, np.ndarray, Any], Any]
    predict: Callable[[Any, np.ndarray, int, PortfolioState], np.ndarray]
    context: Callable[[Any], int]
    config_context: Callable[[Config], int]
    load: Callable[[Path, Config], Any]
    files: tuple[str, ...]
    columns: tuple[str, ...]
    monitored: int = 0
    as_outputs: Callable[[Any], tuple[np.ndarray, np.ndarray | None]] = regressor_outputs
    shorts: Callable[[Any], bool] = lambda model: False
    fold_overrides: Callable[[Config], dict[str, Any]] = lambda config: {}
    timesteps: Callable[[Config], int] | None = None
    packages: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    pooled_fit: PooledFit | None = None
    score: Callable[..., KindReport] | None = None
    refit: Refit | None = None
    observes: Callable[[Config], bool] = lambda config: False
    bind: Callable[[Any, Mapping[str, Forecaster]], None] | None = None

    @property
    def regressor(self) -> bool:
        """Whether it predicts the label (a ``regressor`` signal)."""
        return self.signal == "regressor"

    def raw_columns(self, outputs: np.ndarray) -> dict[str, float]:
        """The first bar of ``outputs`` (:attr:`predict`'s) as its ledger columns."""
        values: Sequence[Any] = np.asarray(outputs, dtype=np.float64).reshape(len(outputs), -1)[0]
        return {col: float(v) for col, v in zip(self.columns, values, strict=True)}
