"""Run freqtrade's own command line without an exchange connection.

freqtrade loads the exchange's market list on start-up and has no offline mode; this
runner replaces ccxt's Binance ``fetch_markets`` / ``fetch_currencies`` with spot markets
for the pairs whose candle files lie in ``--datadir`` and USDT-M perpetuals for those
whose futures candles lie in ``--datadir``/futures, then calls freqtrade's ``main()``
with the same arguments. Everything else is freqtrade's: backtesting, lookahead-analysis,
recursive-analysis. freqtrade's user-data folder (``--userdir``, the config's
``user_data_dir``, or ``user_data`` in the working directory) is created if it does not
exist, as ``freqtrade create-userdir`` would. Example (from the repository root)::

    python integrations/freqtrade/offline.py backtesting \\
        --config integrations/freqtrade/config.example.json \\
        --strategy-path integrations/freqtrade --strategy KiloStrategy \\
        --datadir ../shared/data/binance --timerange 20250601-20250701

On futures (``"trading_mode": "futures"``, ``"margin_mode": "isolated"`` in the config,
``integrations/freqtrade/README.md``) freqtrade reads the perpetual's candles, funding
rates and mark candles from ``--datadir``/futures and the leverage tiers it ships.

The stub's markets carry Binance's base-tier fees (spot 0.1 %; perpetuals 0.05 % taker,
0.02 % maker; a config's ``fee`` replaces them) and amounts to 1e-8. Prices are rounded
to the tick freqtrade's backtest reads off the candles (ETH/USDT: 0.01 USDT), not the
stub's.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: Taker and maker fees of the stub markets (Binance's base tier; kilo.config.venue).
FEES = {"spot": (0.001, 0.001), "swap": (0.0005, 0.0002)}


def _datadir(argv: list[str]) -> Path:
    for flag in ("--datadir", "--data-dir", "-d"):
        if flag in argv:
            return Path(argv[argv.index(flag) + 1])
    raise SystemExit("offline.py needs --datadir: the folder of candle files to stub markets for")


def _option(argv: list[str], *flags: str) -> list[str]:
    """Every value given to one of ``flags`` (``--flag value`` or ``--flag=value``)."""
    values = []
    for k, arg in enumerate(argv):
        for flag in flags:
            if arg == flag and k + 1 < len(argv):
                values.append(argv[k + 1])
            elif arg.startswith(flag + "="):
                values.append(arg.split("=", 1)[1])
    return values


def user_data_dir(argv: list[str]) -> Path:
    """The user-data folder freqtrade will use for ``argv``: ``--userdir``, else the last
    config file's ``user_data_dir``, else ``user_data`` in the working directory."""
    given = _option(argv, "--userdir", "--user-data-dir")
    if given:
        return Path(given[-1])
    for name in reversed(_option(argv, "--config", "-c")):
        path = Path(name)
        if path.is_file():
            with contextlib.suppress(ValueError):
                folder = json.loads(path.read_text()).get("user_data_dir")
                if folder:
                    return Path(folder)
    return Path.cwd() / "user_data"


def _market(base: str, quote: str, swap: bool) -> dict[str, Any]:
    """One ccxt market structure: spot ``BASE/QUOTE`` or the linear perpetual
    ``BASE/QUOTE:QUOTE`` (contract size 1)."""
    taker, maker = FEES["swap" if swap else "spot"]
    return {
        "id": f"{base}{quote}",
        "symbol": f"{base}/{quote}:{quote}" if swap else f"{base}/{quote}",
        "base": base,
        "quote": quote,
        "baseId": base,
        "quoteId": quote,
        "settle": quote if swap else None,
        "settleId": quote if swap else None,
        "type": "swap" if swap else "spot",
        "spot": not swap,
        "margin": False,
        "swap": swap,
        "future": False,
        "option": False,
        "contract": swap,
        "linear": True if swap else None,
        "inverse": False if swap else None,
        "contractSize": 1.0 if swap else None,
        "active": True,
        "taker": taker,
        "maker": maker,
        "percentage": True,
        "tierBased": False,
        "precision": {"amount": 1e-8, "price": 1e-8, "cost": None, "base": None},
        "limits": {
            "amount": {"min": 1e-8, "max": None},
            "price": {"min": 1e-8, "max": None},
            "cost": {"min": 5.0, "max": None},
            "leverage": {"min": 1.0 if swap else None, "max": 125.0 if swap else None},
            "market": {"min": None, "max": None},
        },
        "info": {},
    }


def stub_markets(datadir: Path) -> list[dict[str, Any]]:
    """ccxt market structures: spot for each ``BASE_QUOTE-<timeframe>.*`` file in
    ``datadir``, a perpetual for each ``BASE_QUOTE_QUOTE-<timeframe>-futures.*`` file in
    ``datadir/futures``."""
    spot = sorted({p.name.split("-")[0] for p in datadir.glob("*_*-*.*")})
    perpetuals = sorted({p.name.split("-")[0] for p in datadir.glob("futures/*_*_*-*-futures.*")})
    markets = [_market(*name.split("_", 1), swap=False) for name in spot]
    return markets + [_market(*name.split("_")[:2], swap=True) for name in perpetuals]


@contextlib.contextmanager
def stubbed_markets(datadir: Path) -> Iterator[None]:
    """While the block runs, ccxt's Binance (sync and async) answers the market list
    from ``datadir``'s candle files and the currency list with nothing."""
    import ccxt
    import ccxt.async_support

    markets = stub_markets(datadir)

    def fetch_markets(self: Any, params: Any = None) -> list[dict[str, Any]]:
        return [dict(m) for m in markets]

    async def fetch_markets_async(self: Any, params: Any = None) -> list[dict[str, Any]]:
        return fetch_markets(self, params)

    def fetch_currencies(self: Any, params: Any = None) -> dict[str, Any]:
        return {}

    async def fetch_currencies_async(self: Any, params: Any = None) -> dict[str, Any]:
        return {}

    stubs = {
        (ccxt.binance, "fetch_markets"): fetch_markets,
        (ccxt.binance, "fetch_currencies"): fetch_currencies,
        (ccxt.async_support.binance, "fetch_markets"): fetch_markets_async,
        (ccxt.async_support.binance, "fetch_currencies"): fetch_currencies_async,
    }
    originals = {key: getattr(*key) for key in stubs}
    for (cls, name), stub in stubs.items():
        setattr(cls, name, stub)
    try:
        yield
    finally:
        for (cls, name), original in originals.items():
            setattr(cls, name, original)


def main(argv: list[str]) -> int:
    """Stub the markets for ``argv``'s ``--datadir`` and run freqtrade with ``argv``."""
    from freqtrade.configuration.directory_operations import create_userdata_dir
    from freqtrade.main import main as freqtrade_main

    datadir = _datadir(argv)
    create_userdata_dir(str(user_data_dir(argv)), create_dir=True)
    with stubbed_markets(datadir):
        try:
            freqtrade_main(argv)
        except SystemExit as exc:
            return int(exc.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
