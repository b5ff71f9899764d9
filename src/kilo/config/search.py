"""The ``search`` and ``tracking`` sections: hyper-parameter search and MLflow runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

from kilo.config.sections import _Section


def _models(annotation: Any) -> list[type[BaseModel]]:
    """The Pydantic models an annotation allows (through unions and ``Annotated``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models(arg)]


def all_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every dotted key of ``model``, through nested sections and unions of them."""
    out = []
    for name, field in model.model_fields.items():
        out.append(prefix + name)
        for inner in _models(field.annotation):
            out += all_paths(inner, f"{prefix}{name}.")
    return sorted(set(out))


def has_path(model: type[BaseModel], dotted: str) -> bool:
    """Whether ``dotted`` names a field of ``model`` (through nested sections, and any
    member of a union of sections such as the blend rules)."""
    head, _, rest = dotted.partition(".")
    field = model.model_fields.get(head)
    if field is None:
        return False
    return not rest or any(has_path(inner, rest) for inner in _models(field.annotation))


class SearchRange(BaseModel):
    """A numeric range; integers when ``low`` and ``high`` are both integers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    low: int | float = Field(
        description="lowest value (integers when low and high both are) [the key's unit]"
    )
    high: int | float = Field(description="highest value [the key's unit]")
    log: bool = Field(False, description="sample on a log scale (low > 0)")

    @model_validator(mode="after")
    def _order(self) -> SearchRange:
        if not self.low < self.high:
            raise ValueError(f"low {self.low} must be below high {self.high}")
        if self.log and self.low <= 0:
            raise ValueError("a log range needs low > 0")
        return self

    @property
    def integer(self) -> bool:
        return isinstance(self.low, int) and isinstance(self.high, int)


class SearchChoices(BaseModel):
    """A list of values to choose from (any YAML value: numbers, strings, lists)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    choices: list[Any] = Field(min_length=1, description="values to choose from")


def _kind(value: Any) -> str:
    """Which parameter a YAML mapping (or model) describes: it lists choices, or a range."""
    has_choices = isinstance(value, SearchChoices) or (
        isinstance(value, dict) and "choices" in value
    )
    return "choices" if has_choices else "range"


SearchParam = Annotated[
    Annotated[SearchRange, Tag("range")] | Annotated[SearchChoices, Tag("choices")],
    Discriminator(_kind),
]

DEFAULT_SPACE: dict[str, dict[str, Any]] = {
    "target.horizon": {"choices": [4, 12, 24]},
    "target.kind": {"choices": ["log_return", "vol_scaled", "triple_barrier"]},
    "blend.cost_multiple": {"low": 1.0, "high": 3.0},
    "models.lightgbm.num_leaves": {"low": 7, "high": 63, "log": True},
    "models.gru.hidden_size": {"choices": [32, 64]},
    "features.timeframes": {"choices": [[], ["4h"], ["4h", "1d"]]},
}


class SearchConfig(_Section):
    """scripts/search.py: Optuna over nested walk-forward folds."""

    space: dict[str, SearchParam] = Field(
        default_factory=lambda: dict(DEFAULT_SPACE),
        validate_default=True,
        description="dotted config key -> {low, high, log} or {choices: [...]}",
    )
    objective: Literal["net_sharpe", "ic"] = Field(
        "net_sharpe",
        description="on inner validation folds: the blend's net Sharpe, or the regressors' mean IC",
    )
    inner_fraction: float = Field(
        0.4,
        gt=0,
        lt=0.9,
        description="share of the rows before the first outer test window (less an embargo) "
        "that the search's inner test folds cover (evaluation.folds of them) [fraction]",
    )
    storage: str = Field("sqlite:///state/optuna.db", description="Optuna storage URL")
    report_dir: Path = Field(Path("reports/search"), description="where studies are reported")


class TrackingConfig(_Section):
    """MLflow runs of trainer, evaluate and search."""

    enabled: bool = Field(True, description="log runs to MLflow")
    uri: str = Field(
        "sqlite:///state/mlflow.db",
        description="MLflow tracking URI (works offline; no server needed)",
    )
    experiment: str = Field("kilo", description="MLflow experiment name")
