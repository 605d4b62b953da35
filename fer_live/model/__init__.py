"""The SE-ResNet multi-task model and its self-describing weights files."""

from fer_live.model.config import ModelConfig
from fer_live.model.se_resnet import SEResNet
from fer_live.model.weights import load_weights, save_weights

__all__ = ["ModelConfig", "SEResNet", "load_weights", "save_weights"]
