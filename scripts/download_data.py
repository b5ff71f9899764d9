#!/usr/bin/env python
"""Download closed candles from an exchange with ccxt into the data folder."""

from __future__ import annotations

import logging
import sys

from kilo.cli import add_symbol_option, common_parser, config_default, config_from_args
from kilo.data.download import check_reachable, download_candles, make_exchange
from kilo.errors import KiloError

logger = logging.getLogger("kilo.download")


def main(argv: list[str] | None = None) -> int:
    parser = common_parser(
        "Download closed OHLCV candles with ccxt into {data_dir}/{exchange}/"
        "{BASE}_{QUOTE}-{timeframe}.feather. Existing files are continued from their "
        "last candle and replaced atomically. Needs internet.",
        models=False,
    )
    add_symbol_option(parser, "download")
    parser.add_argument(
        "--timeframe", help=f"candle timeframe (default: {config_default('data.timeframe')})"
    )
    parser.add_argument(
        "--since",
        help=f"first candle (UTC) of a new file (default: {config_default('data.since')})",
    )
    parser.add_argument(
        "--exchange", help=f"ccxt exchange id (default: {config_default('data.exchange')})"
    )
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
        exchange = make_exchange(args.exchange or config.data.exchange)
    except KiloError as exc:
        parser.error(str(exc))
    try:
        check_reachable(exchange)
    except KiloError as exc:
        logger.error("%s; nothing was downloaded", exc)
        return 1
    failed = []
    for symbol in args.symbol or config.symbols:
        try:
            path = download_candles(
                exchange,
                symbol,
                args.timeframe or config.data.timeframe,
                config.data.dir,
                args.since or config.data.since,
                max_retries=config.data.max_retries,
                base_delay=config.data.retry_base_delay,
            )
            print(f"{symbol}: {path}")
        except KiloError as exc:
            logger.error("%s: download failed, any existing file is unchanged: %s", symbol, exc)
            failed.append(symbol)
        except Exception:
            logger.exception("%s: download failed, any existing file is unchanged", symbol)
            failed.append(symbol)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
