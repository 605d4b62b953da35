"""Complete an older weights file with the runtime's operating point, without retraining.

    python -m training.complete_weights --weights W --config training/configs/bundled.toml

Rebuilds the config's training and validation rows, takes folded per-class logit offsets back out
of the expression bias (weights before the operating point had them), and stores the class prior,
the recommended τ, the neutral reference (training/operating_point.py) and the config's model
version. A file stored in fp16 stays fp16. The file changes, so its int8 model has to be rebuilt
(python -m training.int8).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from fer_live.errors import FerLiveError
from fer_live.model import load_weights, save_weights
from training.operating_point import add_operating_point, describe, unfold_logit_offsets

PROG = "python -m training.complete_weights"


def stored_in_half(path: Path) -> bool:
    """Whether a weights file keeps its floating-point tensors in fp16 (save_weights(half=True))."""
    import torch

    state = torch.load(path, map_location="cpu", weights_only=True)["state_dict"]
    return any(t.dtype == torch.float16 for t in state.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, required=True, help="weights file to complete (rewritten in place)")
    parser.add_argument("--config", type=Path, required=True, help="the training config the weights were made with")
    parser.add_argument("--au-teacher", metavar="TASK_FILE", help="the AU label teacher, for configs with action units")
    args = parser.parse_args(argv)
    try:
        from training.config import load_config
        from training.train import build_sets

        model, meta = load_weights(args.weights)
        cfg = load_config(args.config)
        if args.au_teacher:
            cfg = replace(cfg, au_teacher=args.au_teacher)
        train, repeats, val, _ = build_sets(cfg)
        removed = unfold_logit_offsets(model, meta)
        stored = add_operating_point(model, meta, train, repeats, val, cfg)
        if cfg.model_version:
            meta["model_version"] = cfg.model_version
        save_weights(args.weights, model, meta, half=stored_in_half(args.weights))
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
