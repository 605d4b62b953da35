"""argparse value types shared by the command-line tools, so every CLI words a bad number alike."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def at_least(low: int) -> Callable[[str], int]:
    """A whole number ≥ `low`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, not {value}")
        return value

    return parse


def bounded(low: float, high: float, high_open: bool = False) -> Callable[[str], float]:
    """A number in [low, high], or [low, high) with `high_open`."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value < low or value > high or (high_open and value == high):
            bracket = ")" if high_open else "]"
            raise argparse.ArgumentTypeError(f"must be within [{low:g}, {high:g}{bracket}, not {text}")
        return value

    return parse


def greater_than(low: float) -> Callable[[str], float]:
    """A number > `low`."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not value > low:
            raise argparse.ArgumentTypeError(f"must be greater than {low:g}, not {text}")
        return value

    return parse
