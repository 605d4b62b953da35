"""fer_live/options.py: the shared argparse value types (every CLI answers a bad number with the same wording)."""

from __future__ import annotations

import argparse
import re

import pytest

from fer_live.options import at_least, bounded, greater_than


@pytest.mark.parametrize(
    ("parse", "text", "message"),
    [
        (at_least(1), "0", "must be at least 1, not 0"),
        (at_least(1), "1.5", "not a whole number: '1.5'"),
        (bounded(0.0, 1.0), "1.2", "must be within [0, 1], not 1.2"),
        (bounded(0.0, 1.0, high_open=True), "1", "must be within [0, 1), not 1"),
        (greater_than(0), "0", "must be greater than 0, not 0"),
        (greater_than(0), "fast", "not a number: 'fast'"),
        (at_least(1, 1024), "3000000000", "must be at most 1024, not 3000000000"),
        (greater_than(0, at_most=86400), "1e308", "must be at most 86400, not 1e308"),
    ],
)
def test_bad_values_are_refused_with_one_clear_line(parse, text, message):
    with pytest.raises(argparse.ArgumentTypeError, match="^" + re.escape(message) + "$"):
        parse(text)


def test_good_values_come_back_as_numbers():
    assert at_least(1)("3") == 3
    assert bounded(0.0, 1.0)("1") == 1.0
    assert bounded(0.0, 1.0, high_open=True)("0.9") == 0.9
    assert greater_than(0)("0.5") == 0.5


@pytest.mark.parametrize(
    ("module", "args", "message"),
    [
        ("fer_live.bench.cli", ["soak", "--warmup-minutes", "-1"], "--warmup-minutes: must be within [0, inf], not -1"),
        ("fer_live.gui.tools.bench", ["--seconds", "nan"], "--seconds: not a finite number: 'nan'"),
        ("fer_live.gui.tools.screenshot", ["--seconds", "0"], "--seconds: must be greater than 0, not 0"),
        ("training.train", ["--config", "x.toml", "--epochs", "0"], "--epochs: must be at least 1, not 0"),
        ("training.train", ["--config", "x.toml", "--stop-after", "inf"], "--stop-after: not a finite number: 'inf'"),
    ],
)
def test_developer_tools_use_the_same_number_types(capsys, module, args, message):
    import importlib

    with pytest.raises(SystemExit) as stopped:
        importlib.import_module(module).main(args)
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err


def test_annotate_and_record_help_say_what_each_action_unit_means():
    from fer_live import cli

    parser = cli.build_parser()
    for command in ("annotate", "record"):
        text = " ".join(parser._subparsers._group_actions[0].choices[command].format_help().split())
        assert "AU12 lip corner puller: the lip corners are pulled up and back (smile)" in text
        assert "AU26 jaw drop: the jaw drops open" in text and "README, Action units" in text
