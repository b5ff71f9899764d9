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


def test_a_count_flag_names_itself_in_the_error(capsys) -> None:
    from kilo.cli import positive_int

    parser = common_parser("test")
    parser.add_argument("--folds", type=positive_int)
    assert parser.parse_args(["--folds", "3"]).folds == 3
    for bad in ("0", "-2", "three"):
        with pytest.raises(SystemExit):
            parser.parse_args(["--folds", bad])
        err = capsys.readouterr().err
        assert "argument --folds:" in err and "evaluation.folds" not in err
