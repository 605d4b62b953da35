"""SE-ResNet for small face crops with an expression head, a valence/arousal head and (v6 on) an action unit head."""

from __future__ import annotations

import torch
from torch import nn

from fer_live.model.config import ModelConfig


class SqueezeExcite(nn.Module):
    """Channel attention (Hu et al. 2018): global context rescales each channel."""

    def __init__(self, channels: int, reduction: int):
        super().__init__()
        hidden = max(channels // reduction, 8)
        self.gate = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(channels, hidden, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, channels, 1),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x)


class SEBasicBlock(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, stride: int, reduction: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_ch, out_ch, 3, stride, 1, bias=False),
            nn.BatchNorm2d(out_ch),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_ch, out_ch, 3, 1, 1, bias=False),
            nn.BatchNorm2d(out_ch),
            SqueezeExcite(out_ch, reduction),
        )
        self.shortcut = nn.Identity()
        if stride != 1 or in_ch != out_ch:
            self.shortcut = nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride, bias=False), nn.BatchNorm2d(out_ch))
        self.act = nn.ReLU(inplace=True)

    def zero_init_last(self) -> None:
        """Zero the residual branch's last BatchNorm scale, so the block starts as the identity."""
        last_norm = [m for m in self.body if isinstance(m, nn.BatchNorm2d)][-1]
        nn.init.zeros_(last_norm.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.shortcut(x))


class SEResNet(nn.Module):
    """Returns (expression logits [N, C], valence/arousal [N, 2] in [-1, 1], action unit
    intensities [N, A] in [0, 1]); A = len(config.action_units), 0 for models without the AU head."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        first = config.widths[0]
        # A 3×3 stride-1 stem with no max-pool keeps the fine detail of 48 px crops (ImageNet's 4×
        # early downsampling would discard it); every stage then halves the map: 24, 12, 6, 3.
        self.stem = nn.Sequential(
            nn.Conv2d(config.in_channels, first, 3, 1, 1, bias=False),
            nn.BatchNorm2d(first),
            nn.ReLU(inplace=True),
        )
        stages = []
        in_ch = first
        for width, count in zip(config.widths, config.blocks, strict=True):
            for j in range(count):
                stride = 2 if j == 0 else 1
                stages.append(SEBasicBlock(in_ch, width, stride, config.se_reduction))
                in_ch = width
        self.stages = nn.Sequential(*stages)
        self.trunk = nn.Sequential(
            nn.Linear(2 * in_ch, config.trunk_dim),
            nn.BatchNorm1d(config.trunk_dim),
            nn.ReLU(inplace=True),
            nn.Dropout(config.dropout),
        )
        self.expression_head = nn.Linear(config.trunk_dim, len(config.classes))
        self.va_head = nn.Linear(config.trunk_dim, 2)
        self.au_head = nn.Linear(config.trunk_dim, len(config.action_units)) if config.action_units else None
        self._init_weights()

    def _init_weights(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        for module in self.modules():
            if hasattr(module, "zero_init_last"):
                module.zero_init_last()

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The shared embedding both heads read: mean- and max-pooled last stage, through the trunk."""
        features = self.stages(self.stem(x))
        pooled = torch.cat([features.mean(dim=(2, 3)), features.amax(dim=(2, 3))], dim=1)
        return self.trunk(pooled)

    def forward_head(self, shared: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        # A zero-width slice keeps one output signature (and ONNX graph shape) for models without AUs.
        # The sigmoid in fp32: under bf16 autocast it would round to 1.0 from logit ~6 on (no gradient).
        aus = torch.sigmoid(self.au_head(shared).float()) if self.au_head is not None else shared[:, :0]
        return self.expression_head(shared), torch.tanh(self.va_head(shared)), aus

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.forward_head(self.forward_features(x))
