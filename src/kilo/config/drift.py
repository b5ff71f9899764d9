"""Drift measures of the trader and the retraining they may start (``drift:``)."""

from __future__ import annotations

from pydantic import Field

from kilo.config.sections import _Section


class DriftConfig(_Section):
    """What the trader measures of drift per symbol, and when it calls it drift.

    The reference (bin edges, training shares, validation IC) is stored in the model
    set at training (``bins``); the live measures compare the trailing ``window`` bars
    with it (:mod:`kilo.trading.drift`).
    """

    enabled: bool = Field(
        True,
        description="measure drift in the trader; false: none measured",
    )
    window: int = Field(168, ge=20, description="trailing window of the live measures [bars]")
    bins: int = Field(
        10, ge=2, le=50, description="quantile bins of the reference (10: deciles) [bins]"
    )
    epsilon: float = Field(
        1e-4, gt=0, lt=0.01, description="share an empty bin counts as in PSI [fraction]"
    )
    psi_threshold: float = Field(
        0.25, gt=0, description="PSI above which a feature has drifted (0.25: the convention) [PSI]"
    )
    null_quantile: float | None = Field(
        0.95,
        gt=0.5,
        lt=1,
        description="a feature counts as drifted only above the larger of psi_threshold and "
        "this quantile of its PSI over trailing windows of the training split (stored at "
        "training); null: psi_threshold alone [quantile]",
    )
    feature_share: float = Field(
        0.5,
        gt=0,
        lt=1,
        description="drift when more than this share of the features is above its threshold "
        "[fraction]",
    )
    ic_bars: int = Field(
        336,
        ge=1,
        description="drift when the live IC of the score stays below its validation "
        "interval for this many bars [bars]",
    )
    ic_every: int = Field(
        24, ge=1, description="between live IC measurements (IC, bootstrap interval) [bars]"
    )
    bootstrap: int = Field(
        200,
        ge=50,
        description="moving-block bootstrap replicates of a live IC's interval [replicates]",
    )
    top_features: int = Field(5, ge=1, description="drifting features named per symbol [features]")
    poll: str = Field(
        "1h",
        description="retrain.py --on-drift without --once/--every: how often it reads the "
        "ledger [pandas Timedelta]",
    )
