"""The ``models`` section: which models a set holds, and each model's settings."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from kilo.config.sections import _Section


class GRUConfig(_Section):
    """The GRU sequence regressor and its trainer."""

    sequence_length: int = Field(48, ge=2, description="rows per input window [bars]")
    hidden_size: int = Field(64, ge=1, description="GRU hidden state size [units]")
    num_layers: int = Field(1, ge=1, description="stacked GRU layers [count]")
    dropout: float = Field(
        0.1,
        ge=0,
        lt=1,
        description="dropout between GRU layers and before the output head [fraction]",
    )
    epochs: int = Field(
        30, ge=1, description="most training epochs (early stopping ends sooner) [epochs]"
    )
    batch_size: int = Field(256, ge=1, description="window mode: windows per gradient step [count]")
    learning_rate: float = Field(3e-3, gt=0, description="Adam step size [-]")
    weight_decay: float = Field(0.0, ge=0, description="Adam weight decay [-]")
    patience: int = Field(
        3, ge=1, description="early stopping: epochs without a lower validation loss [epochs]"
    )
    loss: Literal["huber", "mse"] = Field("huber", description="training loss: huber or mse")
    device: str = Field("auto", description="auto, cpu, cuda or cuda:N")
    mode: Literal["window", "sequence"] = Field(
        "sequence",
        description="training samples: window (each labelled row's window from a zero "
        "state) or sequence (contiguous chunks, loss after a burn-in of sequence_length "
        "rows); prediction is by window in both",
    )
    chunk_length: int = Field(
        96, ge=3, description="sequence mode: rows per training chunk, burn-in included [bars]"
    )
    chunk_batch: int = Field(8, ge=1, description="sequence mode: chunks per gradient step [count]")

    @model_validator(mode="after")
    def _chunk(self) -> GRUConfig:
        if self.mode == "sequence" and self.chunk_length <= self.sequence_length:
            raise ValueError(
                f"chunk_length {self.chunk_length} must exceed sequence_length "
                f"{self.sequence_length} in sequence mode (its first sequence_length - 1 "
                "rows are burn-in without loss); raise chunk_length"
            )
        return self


class LightGBMConfig(_Section):
    """The LightGBM tabular regressor (LightGBM's own parameter names)."""

    n_estimators: int = Field(500, ge=1, description="most boosting rounds [trees]")
    learning_rate: float = Field(0.03, gt=0, description="shrinkage per tree [-]")
    num_leaves: int = Field(15, ge=2, description="leaves per tree [count]")
    min_child_samples: int = Field(50, ge=1, description="fewest rows in a leaf [rows]")
    subsample: float = Field(0.8, gt=0, le=1, description="rows sampled per tree [fraction]")
    colsample_bytree: float = Field(
        0.8, gt=0, le=1, description="features sampled per tree [fraction]"
    )
    early_stopping_rounds: int = Field(
        50, ge=1, description="stop after this many rounds without a better validation loss [trees]"
    )


class PPOConfig(_Section):
    """The PPO agent (stable-baselines3) on the TradingEnv."""

    total_timesteps: int = Field(
        100_000,
        ge=1,
        description="environment steps of training, all environments together [timesteps]",
    )
    window: int = Field(8, ge=1, description="feature rows in one observation [bars]")
    episode_length: int = Field(512, ge=2, description="episode length [bars]")
    n_steps: int = Field(
        1024,
        ge=2,
        description="rollout length per update, all n_envs environments together "
        "(n_steps / n_envs each) [timesteps]",
    )
    batch_size: int = Field(128, ge=2, description="minibatch of a PPO update [transitions]")
    n_epochs: int = Field(5, ge=1, description="passes over each rollout [epochs]")
    learning_rate: float = Field(3e-4, gt=0, description="Adam step size [-]")
    gamma: float = Field(0.99, gt=0, le=1, description="discount per bar [-]")
    ent_coef: float = Field(0.01, ge=0, description="entropy bonus of the loss [-]")
    allow_short: bool | None = Field(
        None,
        description="a fourth action, short, beside hold, long and flat; None: as "
        "trading.allow_short (shorts on futures, refused on spot)",
    )
    n_envs: int = Field(
        8,
        ge=1,
        description="environments stepped together (DummyVecEnv), each from its own random "
        "bars; a rollout is still n_steps transitions in all [count]",
    )
    observation: Literal["features", "forecasts", "both"] = Field(
        "features",
        description="what the policy sees beside its position: features (the preprocessed "
        "feature rows), forecasts (the enabled regressors' predictions, out of fold on "
        "the training rows, plus the round-trip cost) or both",
    )
    crossfit_folds: int = Field(
        4,
        ge=2,
        description="observation forecasts/both: contiguous blocks of the training rows, "
        "each predicted by regressors fit on the others (an embargo of the label horizon "
        "each side) [count]",
    )
    reward: Literal["log_return", "differential_sharpe"] = Field(
        "log_return",
        description="per-bar reward: log_return (net of the broker's fees, slippage and "
        "funding) or differential_sharpe (Moody and Saffell 2001, of those net returns)",
    )
    sharpe_eta: float = Field(
        0.01,
        gt=0,
        lt=1,
        description="reward differential_sharpe: adaptation rate of its moving averages "
        "(about 1 / the bars they remember) [1/bar]",
    )

    @model_validator(mode="after")
    def _rollout(self) -> PPOConfig:
        if self.n_steps % self.n_envs:
            raise ValueError(f"n_steps {self.n_steps} must be a multiple of n_envs {self.n_envs}")
        return self


class LinearConfig(_Section):
    """The linear baseline: standardised features, then ridge regression (scikit-learn)."""

    alpha: float = Field(1.0, ge=0, description="ridge L2 penalty on standardised features [-]")


ModelName = Literal["gru", "lightgbm", "ppo", "linear"]
#: Every model kind a set may hold, in their fixed order.
MODEL_NAMES: tuple[ModelName, ...] = ("gru", "lightgbm", "ppo", "linear")


class ModelsConfig(_Section):
    """Which models a set holds, where sets are saved, and each model's settings."""

    dir: Path = Field(Path("models"), description="folder of saved model sets")
    enabled: list[ModelName] = Field(
        default_factory=lambda: list(MODEL_NAMES),
        min_length=1,
        description="the models trained, blended and evaluated (any non-empty subset of "
        "gru, lightgbm, ppo, linear); the others are never trained",
    )
    gru: GRUConfig = Field(GRUConfig(), description="the GRU")
    lightgbm: LightGBMConfig = Field(LightGBMConfig(), description="the LightGBM model")
    ppo: PPOConfig = Field(PPOConfig(), description="the PPO agent")
    linear: LinearConfig = Field(LinearConfig(), description="the linear baseline")

    @field_validator("enabled")
    @classmethod
    def _enabled(cls, value: list[ModelName]) -> list[ModelName]:
        """Each model once, in :data:`MODEL_NAMES` order."""
        return [name for name in MODEL_NAMES if name in value]

    @model_validator(mode="after")
    def _forecasts(self) -> ModelsConfig:
        """PPO observing forecasts needs another kind (a regressor) to forecast."""
        if self.enabled == ["ppo"] and self.ppo.observation != "features":
            raise ValueError(
                f"models.ppo.observation: {self.ppo.observation} needs a regressor in "
                "models.enabled to forecast; enable one or set models.ppo.observation: "
                "features"
            )
        return self
