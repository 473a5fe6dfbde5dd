"""Export a torchvision model (random init, eval mode) to ONNX with torch.onnx.export.

usage: export_torchvision.py NAME OUT.onnx MODE [--batch-static]
MODE: `plain`   batch norm kept (TrainingMode.PRESERVE on an eval model), no constant folding
      `default` the exporter's defaults: eval-mode peephole (BN folded into the conv), constant folding
Prints JSON: the parameter count torchvision reports, the output shape.
"""
import json
import sys

import torch
import torchvision

name, out, mode = sys.argv[1], sys.argv[2], sys.argv[3]
torch.manual_seed(0)
makers = {
    'alexnet': lambda: torchvision.models.alexnet(),
    'vgg11_bn': lambda: torchvision.models.vgg11_bn(),
    'resnet18': lambda: torchvision.models.resnet18(),
    'googlenet': lambda: torchvision.models.googlenet(aux_logits=False, init_weights=True),
}
model = makers[name]().eval()
with torch.no_grad():
    # random init leaves batch norm as the identity (γ=1, β=0, μ=0, σ²=1): give its tensors
    # distinct values so that a mix-up of them would show in the outputs
    g = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.weight.copy_(torch.rand(m.weight.shape, generator=g) * 0.5 + 0.25)
            m.bias.copy_(torch.rand(m.bias.shape, generator=g) * 0.2 - 0.1)
            m.running_mean.copy_(torch.rand(m.running_mean.shape, generator=g) * 0.2 - 0.1)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
params = sum(p.numel() for p in model.parameters())
x = torch.randn(1, 3, 224, 224)
kwargs = dict(opset_version=17, input_names=['input'], output_names=['output'])
if '--batch-static' not in sys.argv:
    kwargs['dynamic_axes'] = {'input': {0: 'N'}, 'output': {0: 'N'}}
if mode == 'plain':
    kwargs.update(training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
elif mode == 'default':
    pass
else:
    raise SystemExit(f'unknown mode {mode}')
torch.onnx.export(model, x, out, **kwargs)
import onnx  # noqa: E402

stored = onnx.load(out)
# the weights the file's nodes use (what a folded export's network has), without batch-norm
# statistics; counted per use, as the exporter stores identical tensors (two zero biases) once
sizes = {t.name: int(__import__('numpy').prod(t.dims)) for t in stored.graph.initializer if t.data_type == 1}
onnx_params = sum(
    sizes[i] for n in stored.graph.node for i in n.input
    if i in sizes and not i.endswith(('running_mean', 'running_var')) and n.op_type != 'BatchNormalization' or
    (n.op_type == 'BatchNormalization' and i in sizes and i in n.input[1:3]))
with torch.no_grad():
    y = model(x)
print(json.dumps({'params': params, 'onnx_params': onnx_params, 'output_shape': list(y.shape)}))
