"""Batch augmentation on the training device: geometry, photometry, blur and occlusion."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class AugmentConfig:
    scale: float = 0.1  # ± relative zoom
    shift: float = 0.08  # ± fraction of the crop side
    rotation_deg: float = 15.0
    flip: float = 0.5
    brightness: float = 0.2
    contrast: float = 0.3
    gamma: float = 0.3
    blur: float = 0.2  # probability
    erase: float = 0.4  # probability of one random occluding rectangle
    to_grey: float = 0.1  # probability, colour models only


def augment(batch: torch.Tensor, cfg: AugmentConfig, generator: torch.Generator) -> torch.Tensor:
    """Augment N×C×H×W images in [0, 1]; returns a new tensor in [0, 1]."""
    n, channels, height, width = batch.shape
    device = batch.device

    def uniform(low: float, high: float, size: tuple[int, ...] = (n,)) -> torch.Tensor:
        return torch.rand(size, generator=generator, device="cpu").to(device) * (high - low) + low

    angle = uniform(-cfg.rotation_deg, cfg.rotation_deg) * math.pi / 180
    scale = uniform(1 - cfg.scale, 1 + cfg.scale)
    flip = torch.where(uniform(0, 1) < cfg.flip, -1.0, 1.0)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [
            torch.stack([cos * flip, -sin, uniform(-cfg.shift, cfg.shift) * 2], dim=1),
            torch.stack([sin * flip, cos, uniform(-cfg.shift, cfg.shift) * 2], dim=1),
        ],
        dim=1,
    )
    grid = F.affine_grid(theta, list(batch.shape), align_corners=False)
    out = F.grid_sample(batch, grid, mode="bilinear", padding_mode="border", align_corners=False)

    if channels == 3 and cfg.to_grey > 0:
        grey = out.mean(dim=1, keepdim=True).expand_as(out)
        pick = (uniform(0, 1) < cfg.to_grey).view(n, 1, 1, 1)
        out = torch.where(pick, grey, out)

    gamma = torch.exp(uniform(-cfg.gamma, cfg.gamma)).view(n, 1, 1, 1)
    out = out.clamp(1e-4, 1).pow(gamma)
    mean = out.mean(dim=(1, 2, 3), keepdim=True)
    contrast = uniform(1 - cfg.contrast, 1 + cfg.contrast).view(n, 1, 1, 1)
    brightness = uniform(-cfg.brightness, cfg.brightness).view(n, 1, 1, 1)
    out = (out - mean) * contrast + mean + brightness

    if cfg.blur > 0:
        kernel = torch.tensor([1.0, 2.0, 1.0], device=device)
        kernel = (kernel[:, None] * kernel[None, :]) / 16
        kernel = kernel.expand(channels, 1, 3, 3)
        blurred = F.conv2d(F.pad(out, (1, 1, 1, 1), mode="replicate"), kernel, groups=channels)
        pick = (uniform(0, 1) < cfg.blur).view(n, 1, 1, 1)
        out = torch.where(pick, blurred, out)

    if cfg.erase > 0:
        area = uniform(0.04, 0.2)
        aspect = torch.exp(uniform(math.log(0.5), math.log(2.0)))
        eh = (torch.sqrt(area * aspect) * height).long().clamp(1, height)
        ew = (torch.sqrt(area / aspect) * width).long().clamp(1, width)
        top = (uniform(0, 1) * (height - eh + 1).float()).long()
        left = (uniform(0, 1) * (width - ew + 1).float()).long()
        rows = torch.arange(height, device=device).view(1, height, 1)
        cols = torch.arange(width, device=device).view(1, 1, width)
        inside = (
            (rows >= top.view(n, 1, 1))
            & (rows < (top + eh).view(n, 1, 1))
            & (cols >= left.view(n, 1, 1))
            & (cols < (left + ew).view(n, 1, 1))
        )
        pick = (uniform(0, 1) < cfg.erase).view(n, 1, 1)
        fill = uniform(0, 1).view(n, 1, 1, 1)
        out = torch.where((inside & pick).unsqueeze(1), fill, out)
    return out.clamp(0, 1)
