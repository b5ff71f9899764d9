"""The ``blend`` section: model weights and one decision rule, as a discriminated union.

``blend.rule`` chooses the rule, and the section holds that rule's keys only:

- ``edge`` (:class:`EdgeBlend`): ``cost_multiple``, ``min_hold_bars``, ``exit_edge``;
- ``quantile`` (:class:`QuantileBlend`): ``enter_threshold``, ``exit_threshold``,
  ``enter_quantile``, ``exit_quantile``.

A key of the other rule is an error that names the rule it belongs to (it would do
nothing). An override of ``blend.rule`` itself switches rules: the old rule's keys
that the same overrides do not set are dropped (:func:`switch_rule`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from kilo.config.models import MODEL_NAMES
from kilo.config.sections import _Section


class _Blend(_Section):
    weights: dict[str, float] = Field(
        default_factory=lambda: {"gru": 1.0, "lightgbm": 1.0, "ppo": 0.0, "linear": 0.0},
        description="relative model weights (PPO 0: chosen on the search's validation "
        "folds over eight years; the linear baseline 0: not chosen on them yet; both are "
        "still trained and evaluated alone) [relative]",
    )

    @field_validator("weights")
    @classmethod
    def _weights(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(MODEL_NAMES))
        if unknown:
            raise ValueError(f"unknown model(s) {unknown}: use {', '.join(MODEL_NAMES)}")
        if any(w < 0 for w in value.values()) or sum(value.values()) <= 0:
            raise ValueError("weights must be >= 0 with a positive sum")
        return value

    @model_validator(mode="before")
    @classmethod
    def _no_keys_of_the_other_rule(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        rule = data.get("rule", cls.model_fields["rule"].default)
        for other, keys in RULE_KEYS.items():
            stray = sorted(k for k in data if k in keys and other != rule)
            if stray:
                names = ", ".join(f"blend.{k}" for k in stray)
                raise ValueError(
                    f"{names} belong(s) to blend.rule {other} and would do nothing under "
                    f"rule {rule}: remove it, or set blend.rule={other}"
                )
        return data


class EdgeBlend(_Blend):
    """Trade when the expected edge pays the costs (:class:`kilo.blend.EdgeRule`)."""

    rule: Literal["edge"] = Field(
        "edge", description="edge: enter when the expected edge beats the costs"
    )
    cost_multiple: float = Field(
        1.5,
        ge=0,
        description="enter when the expected edge exceeds this many round-trip costs [multiple]",
    )
    min_hold_bars: int | None = Field(
        None,
        ge=0,
        description="a position is held at least this long; None: the label horizon [bars]",
    )
    exit_edge: float = Field(
        0.0,
        description="exit once the expected edge falls below this [log return over the horizon]",
    )


class QuantileBlend(_Blend):
    """Score thresholds with hysteresis (:class:`kilo.blend.ThresholdRule`)."""

    rule: Literal["quantile"] = Field(
        "quantile", description="quantile: score thresholds at validation quantiles"
    )
    enter_threshold: float | None = Field(
        None,
        ge=-1,
        le=1,
        description="enter above this score; None: the enter_quantile [score in -1..1]",
    )
    exit_threshold: float | None = Field(
        None,
        ge=-1,
        le=1,
        description="exit below this score; None: the exit_quantile [score in -1..1]",
    )
    enter_quantile: float = Field(
        0.7, gt=0, lt=1, description="enter threshold as a quantile of validation scores [quantile]"
    )
    exit_quantile: float = Field(
        0.4, gt=0, lt=1, description="exit threshold as a quantile of validation scores [quantile]"
    )

    @model_validator(mode="after")
    def _thresholds(self) -> QuantileBlend:
        if self.exit_quantile > self.enter_quantile:
            raise ValueError("exit_quantile must not exceed enter_quantile")
        enter, exit_ = self.enter_threshold, self.exit_threshold
        if enter is not None and exit_ is not None and exit_ > enter:
            raise ValueError("exit_threshold must not exceed enter_threshold")
        return self


def _rule_keys(model: type[_Blend]) -> frozenset[str]:
    return frozenset(model.model_fields) - frozenset(_Blend.model_fields) - {"rule"}


RULE_KEYS: dict[str, frozenset[str]] = {
    "edge": _rule_keys(EdgeBlend),
    "quantile": _rule_keys(QuantileBlend),
}


def _rule_of(value: Any) -> str:
    return str(value.get("rule", "edge")) if isinstance(value, dict) else str(value.rule)


BlendConfig = Annotated[
    Annotated[EdgeBlend, Tag("edge")] | Annotated[QuantileBlend, Tag("quantile")],
    Discriminator(_rule_of),
]


def switch_rule(tree: dict[str, Any], overridden: set[str]) -> None:
    """After overrides that set ``blend.rule``, drop the other rules' keys from
    ``tree['blend']`` unless the overrides set them too (then validation names them)."""
    blend = tree.get("blend")
    if "blend.rule" not in overridden or not isinstance(blend, dict):
        return
    rule = blend.get("rule", "edge")
    for other, keys in RULE_KEYS.items():
        if other != rule:
            for key in keys:
                if f"blend.{key}" not in overridden:
                    blend.pop(key, None)
