"""The ``risk`` and ``monitoring`` sections: what guards and reports a running trader."""

from __future__ import annotations

from pydantic import Field

from kilo.config.sections import _Section


class RiskConfig(_Section):
    """Every rule is independent; ``None`` disables it."""

    daily_loss_limit: float | None = Field(
        0.05,
        gt=0,
        lt=1,
        description="fraction of the UTC "
        "day's opening equity; once lost, no new entries "
        "until the next UTC day [fraction of equity]",
    )
    max_drawdown: float | None = Field(
        0.2,
        gt=0,
        lt=1,
        description="below the equity peak; once reached, close every position and pause "
        "[fraction of equity]",
    )
    drawdown_cooldown_bars: int = Field(
        24,
        ge=0,
        description="without entries after a drawdown breach; the peak restarts afterwards [bars]",
    )
    max_correlated_exposure: float | None = Field(
        0.6,
        gt=0,
        le=1,
        description="a cluster of correlated symbols may hold together [fraction of equity]",
    )
    correlation_window: int = Field(
        72, ge=10, description="window of the rolling return correlation [closed bars]"
    )
    correlation_threshold: float = Field(
        0.7,
        gt=0,
        lt=1,
        description="symbols correlated above this form a cluster [Pearson correlation]",
    )


class MonitoringConfig(_Section):
    """The trader's Prometheus /metrics and /health endpoint."""

    port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="serve /metrics and /health on this port (trader --metrics-port); "
        "None: off [TCP port]",
    )
    host: str = Field("127.0.0.1", description="interface to bind; 0.0.0.0 exposes it")
