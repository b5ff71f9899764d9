"""Command-line plumbing shared by the scripts."""

from __future__ import annotations

import pytest

from kilo.cli import add_symbol_choice, common_parser


def test_symbols_as_users_type_them(capsys) -> None:
    parser = common_parser("test")
    add_symbol_choice(parser, "train")
    args = parser.parse_args(["--symbol", "BTCEUR", "--symbol", "BTC/EUR", "--symbol", "ethusdt"])
    assert args.symbol == ["BTC/EUR", "BTC/EUR", "ETH/USDT"]
    with pytest.raises(SystemExit):
        parser.parse_args(["--symbol", "BTC-EUR-X"])
    err = capsys.readouterr().err
    assert "BASE/QUOTE (e.g. BTC/USDT)" in err and "BASEQUOTE (e.g. BTCUSDT)" in err
