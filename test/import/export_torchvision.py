"""Export a torchvision model (random init, eval mode) to ONNX with torch.onnx.export.

usage: export_torchvision.py NAME OUT.onnx MODE [--batch-static] [--size S]
MODE: `plain`   batch norm kept (TrainingMode.PRESERVE on an eval model), no constant folding
      `default` the exporter's defaults: eval-mode peephole (BN folded into the conv), constant folding
--size S: an S×S input (default 224); the `tiny_*` networks are torchvision's own classes
built small (few channels and blocks, 10 classes) so that a test runs in seconds.
Prints JSON: the parameter count torchvision reports, the output shape.
"""
import json
import sys

import torch
import torchvision
from torchvision.models import convnext, densenet, efficientnet, mobilenetv3, regnet, shufflenetv2

name, out, mode = sys.argv[1], sys.argv[2], sys.argv[3]
torch.manual_seed(0)
makers = {
    'alexnet': lambda: torchvision.models.alexnet(),
    'vgg11_bn': lambda: torchvision.models.vgg11_bn(),
    'resnet18': lambda: torchvision.models.resnet18(),
    'googlenet': lambda: torchvision.models.googlenet(aux_logits=False, init_weights=True),
    'mobilenet_v2': lambda: torchvision.models.mobilenet_v2(),
    'mobilenet_v3_small': lambda: torchvision.models.mobilenet_v3_small(),
    'mobilenet_v3_large': lambda: torchvision.models.mobilenet_v3_large(),
    'efficientnet_b0': lambda: torchvision.models.efficientnet_b0(),
    'efficientnet_v2_s': lambda: torchvision.models.efficientnet_v2_s(),
    'regnet_y_400mf': lambda: torchvision.models.regnet_y_400mf(),
    'shufflenet_v2_x0_5': lambda: torchvision.models.shufflenet_v2_x0_5(),
    'shufflenet_v2_x1_0': lambda: torchvision.models.shufflenet_v2_x1_0(),
    'densenet121': lambda: torchvision.models.densenet121(),
    'convnext_tiny': lambda: torchvision.models.convnext_tiny(),
    # the same classes, small: every kind of block of the family, a few channels
    'tiny_mobilenet_v2': lambda: torchvision.models.mobilenet_v2(width_mult=0.25, num_classes=10),
    'tiny_mobilenet_v3': lambda: mobilenetv3.MobileNetV3(
        mobilenetv3._mobilenet_v3_conf('mobilenet_v3_small', width_mult=0.25)[0], last_channel=64, num_classes=10),
    'tiny_efficientnet': lambda: efficientnet.EfficientNet([
        efficientnet.MBConvConfig(1, 3, 1, 16, 8, 1),
        efficientnet.MBConvConfig(6, 3, 2, 8, 16, 2),
        efficientnet.MBConvConfig(6, 5, 2, 16, 24, 2)], dropout=0.2, num_classes=10),
    'tiny_regnet_y': lambda: regnet.RegNet(regnet.BlockParams.from_init_params(
        depth=4, w_0=8, w_a=8, w_m=2, group_width=8, se_ratio=0.25), stem_width=8, num_classes=10),
    'tiny_shufflenet': lambda: shufflenetv2.ShuffleNetV2([2, 3, 2], [8, 16, 32, 64, 128], num_classes=10),
    'tiny_densenet': lambda: densenet.DenseNet(growth_rate=8, block_config=(2, 3), num_init_features=16, num_classes=10),
    'tiny_convnext': lambda: convnext.ConvNeXt([
        convnext.CNBlockConfig(16, 32, 2), convnext.CNBlockConfig(32, None, 2)], num_classes=10),
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
        elif isinstance(m, torch.nn.LayerNorm):
            m.weight.copy_(torch.rand(m.weight.shape, generator=g) * 0.5 + 0.75)
            m.bias.copy_(torch.rand(m.bias.shape, generator=g) * 0.2 - 0.1)
        elif isinstance(m, torch.nn.Linear) and name.startswith('tiny_'):
            # MobileNet's and EfficientNet's N(0, 0.01) classifiers leave a small network's outputs near 0
            m.weight.copy_(torch.randn(m.weight.shape, generator=g) / m.in_features ** 0.5)
        elif isinstance(m, convnext.CNBlock):
            # layer scale starts at 1e-6, which would hide every block's own computation
            m.layer_scale.copy_(torch.rand(m.layer_scale.shape, generator=g) * 0.5 + 0.25)
params = sum(p.numel() for p in model.parameters())
size = int(sys.argv[sys.argv.index('--size') + 1]) if '--size' in sys.argv else 224
x = torch.randn(1, 3, size, size)
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
