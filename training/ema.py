"""Exponential moving average of a model's weights (Polyak averaging), updated after every step."""

from __future__ import annotations

import copy

import torch

from fer_live.model import SEResNet


class WeightAverage:
    """A copy of `model` whose floating-point state (weights and BatchNorm statistics) follows the
    trained net as an exponential moving average; integer counters are copied."""

    def __init__(self, model: SEResNet, decay: float):
        self.decay = decay
        self.model = copy.deepcopy(model).eval().requires_grad_(False)
        self.updates = 0
        state = self.model.state_dict()
        self._float_keys = [k for k, v in state.items() if v.is_floating_point()]
        self._other_keys = [k for k, v in state.items() if not v.is_floating_point()]

    @torch.no_grad()
    def update(self, model: SEResNet) -> None:
        self.updates += 1
        # Early on the average spans fewer steps, so it is not anchored to the random initialisation.
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        averaged, current = self.model.state_dict(), model.state_dict()
        keys = self._float_keys
        torch._foreach_lerp_([averaged[k] for k in keys], [current[k] for k in keys], 1.0 - decay)
        for key in self._other_keys:
            averaged[key].copy_(current[key])

    def state_dict(self) -> dict:
        return {"model": self.model.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.updates = state["updates"]
