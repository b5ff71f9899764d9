"""The whole configuration: :class:`Config` and its validated copies."""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationError, model_validator

from kilo.config.blend import BlendConfig, EdgeBlend, switch_rule
from kilo.config.drift import DriftConfig
from kilo.config.markets import Symbol
from kilo.config.models import ModelsConfig
from kilo.config.overrides import Overrides, apply_overrides, format_errors
from kilo.config.risk import MonitoringConfig, RiskConfig
from kilo.config.search import SearchConfig, TrackingConfig, all_paths, has_path
from kilo.config.sections import (
    DataConfig,
    EvaluationConfig,
    FeaturesConfig,
    RetrainConfig,
    SplitConfig,
    TargetConfig,
    TrainingConfig,
    _Section,
)
from kilo.config.trading import TradingConfig
from kilo.config.venue import switch_venue
from kilo.errors import ConfigError

DEFAULT_SYMBOLS = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "ADA/USDT", "XRP/USDT"]


class Config(_Section):
    """The whole configuration; see ``config/config.yaml`` for every key."""

    seed: int = Field(
        42, ge=0, description="drives numpy, torch, LightGBM and stable-baselines3 [integer]"
    )
    symbols: list[Symbol] = Field(
        default_factory=lambda: list(DEFAULT_SYMBOLS),
        min_length=1,
        description="the symbols of --all, of the trader and of download_data.py, and the "
        "default features.universe (BTC/USDT or BTCUSDT)",
    )
    data: DataConfig = Field(DataConfig(), description="candles")
    features: FeaturesConfig = Field(FeaturesConfig(), description="the FeatureEngine")
    target: TargetConfig = Field(TargetConfig(), description="the label")
    split: SplitConfig = Field(SplitConfig(), description="the trainer's time split")
    models: ModelsConfig = Field(ModelsConfig(), description="the models")
    blend: BlendConfig = Field(
        default_factory=EdgeBlend, description="model weights and the decision rule"
    )
    trading: TradingConfig = Field(
        default_factory=lambda: TradingConfig.model_validate({}),
        description="venue, costs, sizing and stops",
    )
    risk: RiskConfig = Field(RiskConfig(), description="portfolio risk rules")
    monitoring: MonitoringConfig = Field(MonitoringConfig(), description="/metrics, /health")
    drift: DriftConfig = Field(DriftConfig(), description="live drift measures and their rule")
    evaluation: EvaluationConfig = Field(EvaluationConfig(), description="walk-forward")
    retrain: RetrainConfig = Field(RetrainConfig(), description="champion/challenger")
    training: TrainingConfig = Field(TrainingConfig(), description="how the trainer fits")
    search: SearchConfig = Field(default_factory=SearchConfig, description="Optuna search")
    tracking: TrackingConfig = Field(TrackingConfig(), description="MLflow")

    @model_validator(mode="after")
    def _universe(self) -> Config:
        """``features.universe`` None means the configured symbols (stored, so that the
        feature contract records the universe a model set was trained with)."""
        if self.features.universe is None:
            self.features.universe = list(self.symbols)
        return self

    @model_validator(mode="after")
    def _pool(self) -> Config:
        """Pooled models need one feature set for every member: a reference symbol
        that is itself a member would have no ``ref_`` columns of its own, so under
        ``training.pool: universe`` the members are read through the universe features
        only, and every configured symbol must be a member; ``target.demean`` needs
        the pool (a single symbol's label has no cross-section to subtract); PPO
        observing forecasts needs regressors it can cross-fit per symbol."""
        universe = self.features.universe or []
        if self.target.demean == "universe" and self.training.pool != "universe":
            raise ValueError("target.demean: universe needs training.pool: universe")
        if self.training.pool != "universe":
            return self
        if self.training.refit:
            raise ValueError("training.refit is not done for pooled models (training.pool)")
        if "ppo" in self.models.enabled and self.models.ppo.observation != "features":
            raise ValueError(
                "models.ppo.observation: forecasts are cross-fitted per symbol; pooled "
                "regressors (training.pool: universe) are not: set models.ppo.observation: "
                "features or training.pool: none"
            )
        outside = [s for s in self.symbols if s not in universe]
        if outside:
            raise ValueError(
                f"training.pool: universe: symbols {outside} are not in features.universe"
            )
        refs = self.features.reference_symbols
        self.features.reference_symbols = [r for r in refs if r not in universe]
        return self

    @model_validator(mode="after")
    def _ppo_shorts(self) -> Config:
        """``models.ppo.allow_short`` None follows ``trading.allow_short`` (stored, so a
        model set records what its action 2 means); True where the venue has no shorts
        is refused."""
        ppo = self.models.ppo
        if ppo.allow_short is None:
            ppo.allow_short = self.trading.allow_short
        elif ppo.allow_short and not self.trading.allow_short:
            raise ValueError(
                "models.ppo.allow_short: shorts are off on this venue (trading.market "
                f"{self.trading.market}, trading.allow_short false); allow shorts on a "
                "futures venue (trading.market: futures, trading.allow_short: true) or set "
                "models.ppo.allow_short: false"
            )
        return self

    @model_validator(mode="after")
    def _search_keys(self) -> Config:
        """Every key of ``search.space`` is a dotted path to a config value."""
        unknown = [key for key in self.search.space if not has_path(Config, key)]
        if unknown:
            raise ValueError(f"search.space: unknown config key(s) {unknown}")
        return self

    @model_validator(mode="after")
    def _blend_weights_enabled(self) -> Config:
        """The enabled models carry blend weight (the others' weights do nothing)."""
        if sum(self.blend.weights.get(name, 0.0) for name in self.models.enabled) <= 0:
            raise ValueError(
                f"blend.weights {self.blend.weights} give no weight to the enabled models "
                f"{self.models.enabled}: give one of them a positive weight"
            )
        return self

    @property
    def min_hold_bars(self) -> int:
        """``blend.min_hold_bars``, or the label horizon when unset."""
        hold = self.blend.min_hold_bars if isinstance(self.blend, EdgeBlend) else None
        return self.target.horizon if hold is None else hold

    @classmethod
    def from_tree(cls, tree: dict[str, Any]) -> Config:
        """Validate a nested mapping of sections.

        Raises
        ------
        ConfigError
            Listing every unknown, mistyped or out-of-range key by dotted path.
        """
        try:
            return cls.model_validate(tree)
        except ValidationError as exc:
            raise ConfigError(format_errors(exc, all_paths(cls))) from None

    def with_overrides(self, overrides: Overrides) -> Config:
        """A validated copy with some keys changed.

        Parameters
        ----------
        overrides
            ``["trading.fee=0.002", ...]`` (dotted keys, values parsed as YAML, as
            ``--set``) or a mapping ``{"trading.fee": 0.002}``.

        Raises
        ------
        ConfigError
            If a key is unknown or a value invalid, e.g. ``["trading.fee=5"]``.
        """
        tree = self.model_dump(mode="json")
        overridden = apply_overrides(tree, overrides)
        switch_rule(tree, overridden)
        switch_venue(tree, overridden)
        return Config.from_tree(tree)
