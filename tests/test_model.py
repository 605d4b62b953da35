"""The SE-ResNet's own contracts: blocks start as the identity, the heads read one shared embedding."""

from __future__ import annotations

import torch

from fer_live.model import ModelConfig, SEResNet
from fer_live.model.se_resnet import SEBasicBlock

TINY = ModelConfig(widths=(8, 16, 32, 64), blocks=(2, 1, 1, 1))


def test_every_block_starts_as_its_shortcut():
    torch.manual_seed(0)
    model = SEResNet(TINY).eval()
    blocks = [m for m in model.modules() if isinstance(m, SEBasicBlock)]
    assert len(blocks) == 5
    x = torch.randn(2, 8, 12, 12)
    block = blocks[1]  # 8 → 8 channels, stride 1: the shortcut is the identity
    with torch.no_grad():
        assert torch.count_nonzero(block.body(x)) == 0
        assert torch.equal(block(x), torch.relu(x))


def test_forward_is_the_heads_on_the_shared_features():
    torch.manual_seed(0)
    model = SEResNet(TINY).eval()
    x = torch.randn(3, TINY.in_channels, TINY.input_size, TINY.input_size)
    with torch.no_grad():
        logits, va, aus = model(x)
        shared = model.forward_features(x)
        assert shared.shape == (3, TINY.trunk_dim)
        head_logits, head_va, head_aus = model.forward_head(shared)
    assert torch.equal(logits, head_logits) and torch.equal(va, head_va) and torch.equal(aus, head_aus)
    assert logits.shape == (3, len(TINY.classes)) and va.abs().max() <= 1
    assert aus.shape == (3, 0)  # a model without the AU head keeps the one output signature
