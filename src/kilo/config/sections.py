"""The sections of the configuration, one Pydantic model each (``config/config.yaml``)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, Field, field_validator, model_validator

from kilo.config.markets import Symbol, bars_per_year, timeframe_seconds, utc_timestamp
from kilo.errors import ConfigError


class _Section(BaseModel, extra="forbid", validate_assignment=True):
    """Base of every section: unknown keys are errors."""


class DataConfig(_Section):
    """Where candles come from and which of them every script reads."""

    exchange: str = Field("binance", description="ccxt exchange id, also the data sub-folder")
    timeframe: str = Field("1h", description="candle timeframe in ccxt notation (15m, 1h, 4h)")
    dir: Path = Field(Path("data"), description="candle folder in freqtrade's layout")
    since: str = Field(
        "2024-01-01",
        description="first candle of a fresh download by download_data.py and retrain.py "
        "(an existing file is continued from its last candle); not a window: see start [UTC date]",
    )
    max_retries: int = Field(5, ge=0, description="retries on exchange network errors [count]")
    retry_base_delay: float = Field(
        1.0, gt=0, description="first back-off delay, doubled each retry [seconds]"
    )
    start: str | None = Field(
        None,
        description="train, trade and evaluate on candles from this date on (e.g. "
        "2021-01-01); None: all. Unlike since, every script reads through it [UTC date]",
    )
    end: str | None = Field(
        None, description="... and before this date (exclusive); None: all [UTC date]"
    )

    @field_validator("start", "end", mode="before")
    @classmethod
    def _date(cls, value: object) -> str | None:
        """A date as text; YAML (a config file, ``--set data.start=2021-01-01``) reads
        an unquoted date as a date object."""
        if value is None:
            return None
        if isinstance(value, (date, datetime)):
            value = value.isoformat()
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not a date: use YYYY-MM-DD (UTC)")
        try:
            utc_timestamp(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a date: use YYYY-MM-DD (UTC)") from None
        return str(value)

    @model_validator(mode="after")
    def _window(self) -> DataConfig:
        if self.start and self.end and utc_timestamp(self.start) >= utc_timestamp(self.end):
            raise ValueError(f"data.start {self.start} must be before data.end {self.end}")
        return self

    @field_validator("timeframe")
    @classmethod
    def _timeframe(cls, value: str) -> str:
        try:
            timeframe_seconds(value)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return value

    @property
    def bars_per_year(self) -> float:
        """Bars of ``timeframe`` in a 365-day year, e.g. 8,760 for 1h: annualises Sharpe
        ratios and volatilities."""
        return bars_per_year(timeframe_seconds(self.timeframe))


class FeaturesConfig(_Section):
    """The FeatureEngine's inputs: periods of the own-candle indicators and the
    cross-asset and higher-timeframe groups (part of the feature contract)."""

    return_periods: list[int] = Field(
        [1, 3, 6, 12, 24], min_length=1, description="periods of the log-return features [bars]"
    )
    volatility_windows: list[int] = Field(
        [24, 72], min_length=1, description="windows of the realised-volatility features [bars]"
    )
    rsi_period: int = Field(14, ge=2, description="RSI period [bars]")
    macd_fast: int = Field(12, ge=1, description="MACD fast EMA span [bars]")
    macd_slow: int = Field(26, ge=2, description="MACD slow EMA span [bars]")
    macd_signal: int = Field(9, ge=1, description="MACD signal EMA span [bars]")
    bollinger_window: int = Field(20, ge=2, description="Bollinger band window [bars]")
    bollinger_std: float = Field(
        2.0, gt=0, description="Bollinger band half-width [standard deviations]"
    )
    atr_period: int = Field(14, ge=1, description="average true range period [bars]")
    volume_window: int = Field(24, ge=2, description="window of the volume features [bars]")
    ema_periods: list[int] = Field(
        [20, 50, 200], min_length=1, description="spans of the EMA distance features [bars]"
    )
    ffill_limit: int = Field(
        3, ge=0, description="longest run of NaN features forward-filled [bars]"
    )
    reference_symbols: list[Symbol] = Field(
        ["BTC/USDT"],
        description="cross-asset: symbols whose "
        "returns and volatility every symbol sees; [] disables",
    )
    universe: list[Symbol] | None = Field(
        None,
        description="cross-asset: symbols of the equal-weight "
        "market return, beta, residual and rank; None: `symbols`; "
        "[] disables",
    )
    cross_window: int = Field(
        72, ge=10, description="window of the rolling beta to the universe [bars]"
    )
    timeframes: list[str] = Field(
        ["4h", "1d"],
        description="higher timeframes resampled from "
        "the candles (completed bars only); [] disables",
    )
    timeframe_period: int = Field(
        14,
        ge=2,
        description="period of the higher timeframes' volatility, RSI and trend [their bars]",
    )

    @field_validator("return_periods", "volatility_windows", "ema_periods")
    @classmethod
    def _positive_periods(cls, value: list[int]) -> list[int]:
        if any(p < 1 for p in value):
            raise ValueError("every period must be >= 1 bar")
        return value

    @field_validator("timeframes")
    @classmethod
    def _timeframes(cls, value: list[str]) -> list[str]:
        try:
            for tf in value:
                timeframe_seconds(tf)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _macd_order(self) -> FeaturesConfig:
        if self.macd_fast >= self.macd_slow:
            raise ValueError("macd_fast must be smaller than macd_slow")
        return self


class TargetConfig(_Section):
    """The label the regressors learn (López de Prado, *Advances in Financial ML*, ch. 3-4)."""

    horizon: int = Field(12, ge=1, description="label horizon [bars]")
    kind: Literal["log_return", "vol_scaled", "triple_barrier"] = Field(
        "triple_barrier",
        description="forward log return; that over trailing volatility; or the "
        "triple-barrier outcome (+1 take-profit, -1 stop-loss, 0 time barrier first)",
    )
    demean: Literal["none", "universe"] = Field(
        "none",
        description="universe: subtract, at each bar, the mean label of the "
        "features.universe members labelled there (with training.pool: universe), so "
        "the models learn which symbol beats the others, not the market's move",
    )
    volatility_window: int = Field(
        24,
        ge=2,
        description="trailing volatility that scales vol_scaled labels and the triple "
        "barriers; not trading.volatility_window (sizing) [bars]",
    )
    take_profit: float = Field(
        1.0,
        gt=0,
        description="triple barrier: upper barrier [trailing volatility x sqrt(horizon)]",
    )
    stop_loss: float = Field(
        1.0,
        gt=0,
        description="triple barrier: lower barrier; not trading.stop_loss, a price fraction "
        "[trailing volatility x sqrt(horizon)]",
    )
    sample_weights: bool = Field(True, description="weight labels by average uniqueness")


class SplitConfig(_Section):
    """The trainer's split of one symbol's rows: train < validation < test in time."""

    val_fraction: float = Field(
        0.15,
        gt=0,
        lt=1,
        description="validation share of all rows (early stopping, calibration); "
        "not evaluation.val_fraction, a share of each fold's training window [fraction]",
    )
    test_fraction: float = Field(
        0.15, gt=0, lt=1, description="test share of all rows, the last ones [fraction]"
    )
    extra_embargo_bars: int = Field(
        0, ge=0, description="added to the minimum embargo between splits [bars]"
    )

    @model_validator(mode="after")
    def _fractions(self) -> SplitConfig:
        if self.val_fraction + self.test_fraction >= 1:
            raise ValueError("val_fraction + test_fraction must be < 1")
        return self


#: The full power curve's further planted ICs (``evaluate.py --power-curve``).
POWER_CURVE_ICS = (0.02, 0.03, 0.08)
#: Costs per round trip (fractions of price) of the evaluation's cost curve.
COST_CURVE = (0.0, 0.0005, 0.001, 0.002, 0.003, 0.004)


class EvaluationConfig(_Section):
    """scripts/evaluate.py's walk-forward folds, controls and baselines (the search's
    inner folds too)."""

    folds: int = Field(5, ge=1, description="walk-forward test folds [count]")
    scheme: Literal["expanding", "rolling"] = Field(
        "expanding", description="expanding or rolling training window"
    )
    initial_train_fraction: float = Field(
        0.4, gt=0, lt=1, description="share of the rows before fold 1 [fraction]"
    )
    rolling_train_bars: int | None = Field(
        None,
        ge=500,
        description="rolling window's length; None: as long as the first fold's [bars]",
    )
    val_fraction: float = Field(
        0.2,
        gt=0,
        lt=1,
        description="validation share of each fold's training window (early stopping, "
        "calibration); not split.val_fraction, the trainer's [fraction]",
    )
    holdout_fraction: float = Field(
        0.1,
        ge=0,
        lt=0.5,
        description="last share of rows held out: no fold, search or default reads it; "
        "evaluated once, reported last (0: none) [fraction of rows]",
    )
    max_ppo_timesteps: int | None = Field(
        30_000,
        ge=1,
        description="cap on each fold's PPO timesteps (models.ppo.total_timesteps, at most "
        "this; null: no cap) [timesteps]",
    )
    momentum_lookback: int = Field(
        24, ge=1, description="momentum baseline trades the sign of this return [bars]"
    )
    random_draws: int = Field(
        100,
        ge=1,
        description="random paths made of the blend's own spells (same exposure and "
        "turnover) [count]",
    )
    planted_ic: float = Field(
        0.05, gt=0, lt=0.5, description="edge of the planted-signal control [Spearman rank IC]"
    )
    power_ics: list[float] = Field(
        default_factory=list,
        description="further planted ICs, each through the whole pipeline: with planted_ic "
        "the points of the power curve ([]: the floor from the real candles and the "
        f"planted point alone; evaluate.py --power-curve: {list(POWER_CURVE_ICS)}) "
        "[Spearman rank IC]",
    )
    bootstrap: int = Field(
        1000, ge=100, description="moving-block bootstrap replicates of the IC [count]"
    )
    permutations: int = Field(
        200, ge=100, description="block permutations for the IC's p-value [count]"
    )
    position_fraction: float = Field(
        1.0, gt=0, le=1, description="size of each position [fraction of equity]"
    )
    jobs: int | None = Field(
        None, ge=1, description="worker processes (--jobs); None: every CPU core [count]"
    )
    cost_curve: list[float] = Field(
        default_factory=lambda: list(COST_CURVE),
        description="costs per round trip at which every strategy is traded again on the "
        "real folds, its decisions re-taken (kilo.evaluation.cost_curve); []: no cost "
        "curve [fraction of price]",
    )
    report_dir: Path = Field(Path("reports"), description="where reports are written")

    @field_validator("power_ics")
    @classmethod
    def _power_ics(cls, value: list[float]) -> list[float]:
        if any(not 0 < ic < 0.5 for ic in value):
            raise ValueError(f"planted ICs must be in (0, 0.5), got {value}")
        return sorted(set(value))

    @field_validator("cost_curve")
    @classmethod
    def _cost_curve(cls, value: list[float]) -> list[float]:
        if any(not 0 <= cost < 0.1 for cost in value):
            raise ValueError(f"costs per round trip must be fractions in [0, 0.1), got {value}")
        return sorted(set(value))


class RetrainConfig(_Section):
    """scripts/retrain.py: champion/challenger."""

    every: str = Field("24h", description="schedule period (pandas Timedelta, e.g. 24h, 30min)")
    sharpe_margin: float = Field(
        0.25,
        ge=0,
        description="challenger's blended net Sharpe may "
        "trail the champion's by at most this [annualised Sharpe]",
    )
    min_window_bars: int = Field(
        200, ge=10, description="shortest out-of-sample window of the comparison [bars]"
    )
    keep_versions: int = Field(
        3, ge=1, description="newest versions kept besides the champion [count]"
    )
    refresh_data: bool = Field(True, description="download the latest candles first")
    log_path: Path = Field(Path("state/retrain.jsonl"), description="decision log, JSON lines")

    @field_validator("every")
    @classmethod
    def _period(cls, value: str) -> str:
        try:
            period = pd.Timedelta(value)
        except ValueError as exc:
            raise ValueError(f"not a duration: {value!r} (use e.g. 24h, 6h, 30min)") from exc
        if period <= pd.Timedelta(0):
            raise ValueError("must be positive")
        return value


class TrainingConfig(_Section):
    """How the trainer fits: refit, parallelism, pooling."""

    refit: bool = Field(
        False,
        description="refit GRU and LightGBM on train + validation with the epochs and "
        "trees early stopping chose, before serving (the blend stays calibrated on the "
        "early-stopped models' validation outputs, so it then describes other models)",
    )
    jobs: int = Field(1, ge=1, description="symbols trained in parallel processes (--jobs) [count]")
    backend: Literal["joblib", "ray"] = Field(
        "joblib",
        description="joblib: local processes; ray: a Ray cluster (pip install -r "
        "requirements-ray.txt); --backend",
    )
    ray_address: str | None = Field(None, description="Ray cluster; None starts a local one")
    pool: Literal["none", "universe"] = Field(
        "none",
        description="universe: the GRU and LightGBM learn from every features.universe "
        "member's rows together, on one time split (each symbol keeps its own "
        "preprocessor, PPO agent and calibration); none: each symbol alone",
    )
