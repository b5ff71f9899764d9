"""Typed configuration: one Pydantic schema for ``config/config.yaml``, validated once.

:func:`load_config` builds it from defaults, the file, the environment and flags;
:meth:`Config.with_overrides` makes validated copies. Symbol and timeframe
conventions live in :mod:`kilo.config.markets`.
"""

from kilo.config.blend import BlendConfig, EdgeBlend, QuantileBlend
from kilo.config.drift import DriftConfig
from kilo.config.loading import ENV_DATA_DIR, ENV_MODELS_DIR, load_config, read_config_file
from kilo.config.markets import Symbol, normalize_symbol, timeframe_seconds
from kilo.config.models import (
    MODEL_NAMES,
    GRUConfig,
    LightGBMConfig,
    LinearConfig,
    ModelName,
    ModelsConfig,
    PPOConfig,
)
from kilo.config.overrides import parse_override
from kilo.config.risk import MonitoringConfig, RiskConfig
from kilo.config.schema import DEFAULT_SYMBOLS, Config
from kilo.config.search import SearchChoices, SearchConfig, SearchRange, TrackingConfig
from kilo.config.sections import (
    POWER_CURVE_ICS,
    DataConfig,
    EvaluationConfig,
    FeaturesConfig,
    RetrainConfig,
    SplitConfig,
    TargetConfig,
    TrainingConfig,
)
from kilo.config.trading import PartialTakeProfit, TradingConfig

__all__ = [
    "POWER_CURVE_ICS",
    "DEFAULT_SYMBOLS",
    "ENV_DATA_DIR",
    "ENV_MODELS_DIR",
    "MODEL_NAMES",
    "BlendConfig",
    "Config",
    "DataConfig",
    "DriftConfig",
    "EdgeBlend",
    "EvaluationConfig",
    "FeaturesConfig",
    "GRUConfig",
    "LightGBMConfig",
    "LinearConfig",
    "ModelName",
    "ModelsConfig",
    "MonitoringConfig",
    "PPOConfig",
    "PartialTakeProfit",
    "QuantileBlend",
    "RetrainConfig",
    "RiskConfig",
    "SearchChoices",
    "SearchConfig",
    "SearchRange",
    "SplitConfig",
    "Symbol",
    "TargetConfig",
    "TradingConfig",
    "TrackingConfig",
    "TrainingConfig",
    "load_config",
    "normalize_symbol",
    "parse_override",
    "read_config_file",
    "timeframe_seconds",
]
