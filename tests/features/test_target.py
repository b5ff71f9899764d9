from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kilo.errors import DataError
from kilo.features import make_target


def test_forward_log_return(btc_candles: pd.DataFrame) -> None:
    y = make_target(btc_candles, horizon=3)
    c = btc_candles["close"].to_numpy()
    assert y.name == "target_log_ret_3" and y.index.equals(btc_candles.index)
    assert y.iloc[10] == pytest.approx(np.log(c[13] / c[10]))
    assert y.iloc[-3:].isna().all() and y.iloc[:-3].notna().all()


def test_rejects_bad_input() -> None:
    frame = pd.DataFrame({"close": [1.0, 0.0, 2.0]})
    with pytest.raises(DataError, match="non-positive"):
        make_target(frame, 1)
    with pytest.raises(DataError, match="horizon"):
        make_target(frame.assign(close=1.0), 0)
