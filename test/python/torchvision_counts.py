"""Parameter and multiply-accumulate counts of torchvision classification models.

Usage: torchvision_counts.py NAME:SIZE ...

Prints one JSON object: {name: {"params": trainable parameters,
"macs": multiply-accumulates of Conv2d and Linear for one SIZE x SIZE image}}.
MACs follow alexnetc's convention (conv and dense only; biases, activations,
pools and batch norm not counted), counted from each layer's real output.
"""
import json
import sys

import torch
import torchvision
from torch import nn

EXTRA = {"inception_v3": {"aux_logits": False, "init_weights": False}}


def count(name, size):
    model = getattr(torchvision.models, name)(weights=None, **EXTRA.get(name, {}))
    total = [0]

    def conv(mod, _inputs, out):
        per_out = (mod.in_channels // mod.groups) * mod.kernel_size[0] * mod.kernel_size[1]
        total[0] += out.numel() // out.shape[0] * per_out

    def linear(mod, _inputs, out):
        total[0] += out.numel() // out.shape[0] * mod.in_features

    for mod in model.modules():
        if isinstance(mod, nn.Conv2d):
            mod.register_forward_hook(conv)
        elif isinstance(mod, nn.Linear):
            mod.register_forward_hook(linear)
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size))
    return {"params": sum(p.numel() for p in model.parameters()), "macs": total[0]}


out = {}
for arg in sys.argv[1:]:
    name, size = arg.split(":")
    out[name] = count(name, int(size))
print(json.dumps(out))
