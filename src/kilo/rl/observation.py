"""What the PPO policy observes: its input rows (features, forecasts or both) and its
portfolio state, built the same way in the env (training) and at serving."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from kilo.errors import UNREADABLE_FILE_ERRORS, ModelSetError

Observation = Literal["features", "forecasts", "both"]
#: The scales and forecast names of a policy observing forecasts, beside its zip.
SPEC_FILE = "ppo_observation.json"
#: What reading a damaged spec file raises.
SPEC_ERRORS: tuple[type[Exception], ...] = (*UNREADABLE_FILE_ERRORS, TypeError)


@dataclass(frozen=True)
class ObservationSpec:
    """How input rows and portfolio state become an observation.

    ``features``: the preprocessed feature rows; state ``(position, position x
    unrealised, bars held / episode_length)`` (the observation of model sets saved
    before forecasts existed). ``forecasts``: the regressors ``forecasts`` predictions,
    each divided by its ``forecast_scale`` (its out-of-fold standard deviation on the
    training rows, so a unit is a typical forecast); ``both``: the feature rows, then
    those. With forecasts the state gains the round-trip cost, and it and the unrealised
    return are divided by ``return_scale`` (the standard deviation of the training rows'
    log return over the label horizon), so forecasts, cost and gains compare in units
    the policy can read.

    Attributes
    ----------
    kind : features, forecasts or both (``models.ppo.observation``)
    forecasts : regressor names, the column order of the forecasts
    forecast_scale : per forecast, in label units (``target.kind``; same order)
    return_scale : log return over the label horizon
    round_trip_cost : log return of an entry and an exit at full size
        (:func:`~kilo.metrics.round_trip_log_cost`)
    """

    kind: Observation = "features"
    forecasts: tuple[str, ...] = ()
    forecast_scale: tuple[float, ...] = ()
    return_scale: float = 1.0
    round_trip_cost: float = 0.0

    @classmethod
    def fit(
        cls,
        kind: Observation,
        names: tuple[str, ...],
        forecasts: np.ndarray,
        horizon_returns: np.ndarray,
        round_trip_cost: float,
    ) -> ObservationSpec:
        """The spec with scales learnt on the training rows.

        Parameters
        ----------
        forecasts
            Array of shape (n_train, len(names)), out-of-fold predictions (label units).
        horizon_returns
            Array of shape (n_train,), log return over the label horizon (NaN ignored).
        """
        scale = np.nanstd(np.asarray(forecasts, dtype=np.float64), axis=0)
        return cls(
            kind,
            tuple(names),
            tuple(float(s) if s > 0 else 1.0 for s in scale),
            float(np.nanstd(horizon_returns)) or 1.0,
            float(round_trip_cost),
        )

    @property
    def n_state(self) -> int:
        """Portfolio state values at the end of an observation."""
        return 3 if self.kind == "features" else 4

    def inputs(self, features: np.ndarray | None, forecasts: np.ndarray | None) -> np.ndarray:
        """The rows the policy's window slides over.

        Parameters
        ----------
        features
            Array of shape (n, n_features), preprocessed (kind features or both).
        forecasts
            Array of shape (n, len(self.forecasts)), raw predictions in label units, in
            :attr:`forecasts` order (kind forecasts or both).

        Returns
        -------
        ndarray of shape (n, n_inputs), float32.

        Raises
        ------
        ValueError
            If a part the kind needs is missing or has the wrong number of columns.
        """
        parts = []
        if self.kind != "forecasts":
            if features is None:
                raise ValueError(f"observation {self.kind} needs the feature rows")
            parts.append(np.asarray(features, dtype=np.float32))
        if self.kind != "features":
            if forecasts is None or np.shape(forecasts)[1:] != (len(self.forecasts),):
                raise ValueError(
                    f"observation {self.kind} needs forecasts of {list(self.forecasts)}, got "
                    f"shape {None if forecasts is None else np.shape(forecasts)}"
                )
            scaled = np.asarray(forecasts) / np.asarray(self.forecast_scale)
            parts.append(scaled.astype(np.float32))
        return parts[0] if len(parts) == 1 else np.hstack(parts)

    def state(
        self, position: float, unrealised: float, bars_held: int, episode_length: int
    ) -> list[float]:
        """The :attr:`n_state` state values: position in {-1, 0, 1}; ``position x
        unrealised`` (log return since entry; 0 when flat); ``bars_held /
        episode_length`` capped at 1 (0 when flat); with forecasts, the round-trip cost;
        the two returns divided by :attr:`return_scale` with forecasts."""
        gain = position * unrealised if position else 0.0
        held = min(bars_held / episode_length, 1.0) if position else 0.0
        if self.kind == "features":
            return [position, gain, held]
        return [position, gain / self.return_scale, held, self.round_trip_cost / self.return_scale]

    def save(self, folder: Path) -> list[str]:
        """Write :data:`SPEC_FILE`; return the file names written."""
        (Path(folder) / SPEC_FILE).write_text(json.dumps(asdict(self), indent=2))
        return [SPEC_FILE]

    @classmethod
    def load(cls, folder: Path, kind: Observation) -> ObservationSpec:
        """The spec :meth:`save` wrote for a policy of ``kind``; with features, the
        default spec unread (a set saved before forecasts existed has no file).

        Raises
        ------
        ModelSetError
            If ``kind`` observes forecasts and the file is missing or malformed.
        """
        if kind == "features":
            return cls()
        path = Path(folder) / SPEC_FILE
        try:
            raw = json.loads(path.read_text())
            spec = cls(
                raw["kind"],
                tuple(raw["forecasts"]),
                tuple(float(s) for s in raw["forecast_scale"]),
                float(raw["return_scale"]),
                float(raw["round_trip_cost"]),
            )
        except SPEC_ERRORS as exc:
            raise ModelSetError(f"{path}: cannot read the PPO observation ({exc})") from exc
        if spec.kind != kind:
            raise ModelSetError(f"{path}: observation {spec.kind}, the config says {kind}")
        return spec


FEATURES = ObservationSpec()


def build_observations(
    windows: np.ndarray,
    spec: ObservationSpec,
    position: float,
    unrealised: float,
    bars_held: int,
    episode_length: int,
) -> np.ndarray:
    """Observations as :class:`~kilo.rl.env.TradingEnv` builds them, for serving.

    Parameters
    ----------
    windows
        Array of shape (m, window, n_inputs): input rows ``t - window + 1 .. t``
        (:meth:`ObservationSpec.inputs`).
    position, unrealised, bars_held
        Portfolio state shared by all m rows (:meth:`ObservationSpec.state`).
    episode_length
        The agent's episode length, which scales ``bars_held``.

    Returns
    -------
    ndarray of shape (m, window * n_inputs + spec.n_state), float32.
    """
    m, n_in = windows.shape[0], windows.shape[1] * windows.shape[2]
    out = np.empty((m, n_in + spec.n_state), dtype=np.float32)
    out[:, :n_in] = windows.reshape(m, -1)
    out[:, n_in:] = spec.state(position, unrealised, bars_held, episode_length)
    return out
