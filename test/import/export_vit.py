"""Export a torchvision VisionTransformer (random weights, eval mode) to ONNX with
torch.onnx.export at opset 17 and the exporter's defaults.

usage: export_vit.py CONFIG OUT.onnx [--opset N] [--bad-scale]
CONFIG: `small`  VisionTransformer(image 32, patch 8, 2 layers, 4 heads, hidden 64, MLP 128, 10 classes)
        `vit_b_32`, `vit_b_16`  torchvision's (224², 1000 classes)
--opset N: export at opset N (default 17; before 17 layer norm is written as its formula, before 13
           Softmax takes the axis it flattens from)
--bad-scale: then change the first attention's scale of the queries (√(D/heads)) to 2.5 in the file,
             a graph that looks like attention but is not nn.MultiheadAttention (the import must refuse it)
Prints JSON: the parameter count torchvision reports, the output shape.
"""
import json
import sys

import torch
import torchvision
from torchvision.models.vision_transformer import VisionTransformer

def build(config):
    """torchvision's model for CONFIG, every tensor random (seeded), in eval mode."""
    torch.manual_seed(0)
    makers = {
        'small': lambda: VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=4,
                                           hidden_dim=64, mlp_dim=128, num_classes=10),
        'vit_b_32': lambda: torchvision.models.vit_b_32(),
        'vit_b_16': lambda: torchvision.models.vit_b_16(),
    }
    model = makers[config]().eval()
    with torch.no_grad():
        # torchvision starts the class token, the biases and the head at zero and the layer norms at
        # one: give every tensor distinct values so that a mix-up of any of them shows in the outputs
        g = torch.Generator().manual_seed(1)
        for name, p in model.named_parameters():
            if name.endswith('ln_1.weight') or name.endswith('ln_2.weight') or name == 'encoder.ln.weight':
                p.copy_(torch.rand(p.shape, generator=g) * 0.5 + 0.75)
            elif p.dim() == 1 or name in ('class_token', 'encoder.pos_embedding'):
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
            elif name == 'heads.head.weight':
                p.copy_(torch.randn(p.shape, generator=g) * 0.05)
    return model


if __name__ == '__main__':
    config, out = sys.argv[1], sys.argv[2]
    model = build(config)
    size = model.image_size
    x = torch.randn(1, 3, size, size)
    opset = int(sys.argv[sys.argv.index('--opset') + 1]) if '--opset' in sys.argv else 17
    torch.onnx.export(model, x, out, opset_version=opset, input_names=['input'], output_names=['output'],
                      dynamic_axes={'input': {0: 'N'}, 'output': {0: 'N'}})
    if '--bad-scale' in sys.argv:
        import numpy as np
        import onnx
        from onnx import numpy_helper
        stored = onnx.load(out)
        consts = {n.output[0]: n for n in stored.graph.node if n.op_type == 'Constant'}
        div = next(n for n in stored.graph.node if n.op_type == 'Div' and 'self_attention' in n.name
                   and n.input[1] in consts and numpy_helper.to_array(consts[n.input[1]].attribute[0].t).dtype == np.float32)
        consts[div.input[1]].attribute[0].t.CopyFrom(numpy_helper.from_array(np.array(2.5, dtype=np.float32)))
        onnx.save(stored, out)
        print(json.dumps({'changed': div.name}))
    params = sum(p.numel() for p in model.parameters())
    with torch.no_grad():
        y = model(x)
    print(json.dumps({'params': params, 'output_shape': list(y.shape), 'image': size}))
