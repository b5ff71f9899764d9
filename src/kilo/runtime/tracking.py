"""Experiment tracking with MLflow: one run per training, evaluation and search trial.

Runs go to ``tracking.uri`` (default ``sqlite:///state/mlflow.db``: offline, no server),
in experiment ``tracking.experiment``; artifacts to ``mlartifacts/`` beside the SQLite
file. Params are the resolved config flattened to dotted keys; metrics are finite
numbers. Tracking never stops the work it records: a failure is logged once and the
run goes on untracked. Compare runs with
``mlflow ui --backend-store-uri sqlite:///state/mlflow.db``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from kilo.config import Config, TrackingConfig

logger = logging.getLogger(__name__)

PARENT_TAG = "mlflow.parentRunId"
MAX_PARAM = 6000  # MLflow's limit on a param value, characters


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; lists and scalars are leaves."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def config_params(config: Config) -> dict[str, str]:
    """The resolved config as MLflow params: dotted keys, values as text."""
    return {k: str(v)[:MAX_PARAM] for k, v in flatten(config.model_dump(mode="json")).items()}


#: The tag naming a run's configuration: :func:`config_hash`.
CONFIG_TAG = "kilo.config_hash"


def config_hash(config: Config) -> str:
    """A short sha256 of the resolved config without its seed and paths: runs with the
    same hash tried the same configuration (a trial of the deflated Sharpe ratio)."""
    params = config_params(config)
    kept = {
        k: v
        for k, v in params.items()
        if k != "seed" and not k.endswith(("dir", "uri", "storage", "ledger_path"))
    }
    return hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).hexdigest()[:16]


def finite_metrics(values: Mapping[str, Any]) -> dict[str, float]:
    """The finite numbers of a (nested) mapping, dotted keys; bools and NaN are left out."""
    return {
        k: float(v)
        for k, v in flatten(values).items()
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    }


class Run:
    """An open MLflow run; every call is best effort (see :class:`Tracker`)."""

    def __init__(self, tracker: Tracker, run_id: str | None) -> None:
        self.tracker, self.id = tracker, run_id

    def log_metrics(self, metrics: Mapping[str, Any], step: int = 0) -> None:
        """Log the finite numbers of ``metrics`` (nested keys dotted)."""
        from mlflow.entities import Metric

        stamp = int(time.time() * 1000)
        rows = [Metric(k, v, stamp, step) for k, v in finite_metrics(metrics).items()]
        self.tracker.call(lambda c: c.log_batch(self.id, metrics=rows), self.id)

    def log_artifact(self, path: str | Path) -> None:
        """Copy a file into the run's artifacts."""
        self.tracker.call(lambda c: c.log_artifact(self.id, str(path)), self.id)


class Tracker:
    """Opens MLflow runs for ``tracking``'s settings; does nothing when disabled.

    Parameters
    ----------
    config
        The ``tracking`` section.
    """

    def __init__(self, config: TrackingConfig) -> None:
        self.config = config
        self._client: Any = None
        self._experiment: str | None = None
        self._failed = not config.enabled

    def call(self, action: Any, run_id: str | None = "") -> Any:
        """Run ``action(client)`` unless tracking is off or has failed; log a failure once."""
        if self._failed or run_id is None:
            return None
        try:
            return action(self._connect())
        except Exception as exc:  # tracking is a side channel: never stop the work for it
            logger.warning(
                "MLflow tracking at %s failed (%s: %s); going on untracked",
                self.config.uri,
                type(exc).__name__,
                exc,
            )
            self._failed = True
            return None

    def _connect(self) -> Any:
        if self._client is None:
            from mlflow.tracking import MlflowClient

            uri = self.config.uri
            if uri.startswith("sqlite:///"):
                Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            client = MlflowClient(tracking_uri=uri)
            found = client.get_experiment_by_name(self.config.experiment)
            self._experiment = (
                found.experiment_id
                if found
                else client.create_experiment(
                    self.config.experiment, artifact_location=self._artifact_location()
                )
            )
            self._client = client
        return self._client

    def find_runs(
        self, kinds: tuple[str, ...], *, statuses: tuple[str, ...] = ("FINISHED",)
    ) -> list[Any]:
        """The experiment's runs whose ``kilo.kind`` tag is one of ``kinds`` and whose
        status is one of ``statuses`` (MLflow ``Run`` entities, newest first); [] when
        tracking is off, and [] with a warning when the store cannot be searched
        (tracking itself goes on)."""
        if self._failed:
            return []
        try:
            client = self._connect()
            runs = [
                run
                for kind in kinds
                for status in statuses
                for run in client.search_runs(
                    [self._experiment],
                    filter_string=f"tags.`kilo.kind` = '{kind}' and attributes.status = '{status}'",
                    max_results=50_000,
                )
            ]
        except Exception as exc:  # a side channel: never stop the work for it
            logger.warning("could not search MLflow runs at %s (%s)", self.config.uri, exc)
            return []
        return sorted(runs, key=lambda run: run.info.start_time, reverse=True)

    def _artifact_location(self) -> str | None:
        uri = self.config.uri
        if not uri.startswith("sqlite:///"):
            return None
        return (Path(uri.removeprefix("sqlite:///")).resolve().parent / "mlartifacts").as_uri()

    @contextlib.contextmanager
    def run(
        self,
        name: str,
        params: Mapping[str, Any],
        *,
        parent: Run | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Iterator[Run]:
        """An MLflow run named ``name`` with ``params``; nested under ``parent`` if given.

        The run ends FINISHED, or FAILED (and the exception propagates) if the body raises.
        """
        all_tags = dict(tags or {})
        if parent is not None and parent.id is not None:
            all_tags[PARENT_TAG] = parent.id

        def start(client: Any) -> str:
            from mlflow.entities import Param

            run = client.create_run(self._experiment, run_name=name, tags=all_tags)
            items = [Param(k, str(v)[:MAX_PARAM]) for k, v in params.items()]
            for i in range(0, len(items), 100):  # MLflow takes at most 100 params a batch
                client.log_batch(run.info.run_id, params=items[i : i + 100])
            return str(run.info.run_id)

        run = Run(self, self.call(start))
        try:
            yield run
        except BaseException:
            self.call(lambda c: c.set_terminated(run.id, "FAILED"), run.id)
            raise
        self.call(lambda c: c.set_terminated(run.id, "FINISHED"), run.id)
