"""Complete an older weights file with the runtime's operating point, without retraining.

    python -m training.complete_weights --weights W --config training/configs/bundled.toml

Rebuilds the config's training and validation rows, takes folded per-class logit offsets back out
of the expression bias (weights before the operating point had them), and stores the class prior,
the recommended τ and the neutral reference (training/operating_point.py). The file changes, so
its int8 model has to be rebuilt (python -m training.int8).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fer_live.errors import FerLiveError
from fer_live.model import load_weights, save_weights
from training.operating_point import add_operating_point, describe, unfold_logit_offsets

PROG = "python -m training.complete_weights"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, required=True, help="weights file to complete (rewritten in place)")
    parser.add_argument("--config", type=Path, required=True, help="the training config the weights were made with")
    args = parser.parse_args(argv)
    try:
        from training.config import load_config
        from training.train import build_sets

        model, meta = load_weights(args.weights)
        cfg = load_config(args.config)
        train, repeats, val, _ = build_sets(cfg)
        removed = unfold_logit_offsets(model, meta)
        stored = add_operating_point(model, meta, train, repeats, val, cfg)
        save_weights(args.weights, model, meta)
    except (FerLiveError, OSError, ValueError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    if removed:
        print(f"took the folded logit offsets {removed} out of the expression bias")
    print(describe(stored) + f" → {args.weights}")
    print("the weights changed: rebuild the int8 model with python -m training.int8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
