"""Cross-check an alexnetc ONNX file against a PyTorch reference model.

Usage:
  torch_crosscheck.py MODEL ONNX_FILE INPUT.f32 ORT_OUTPUT.f32 INPUT_SHAPE

MODEL is lenet5 | alexnet | resnet18 | googlenet | vgg11_bn | vit_b_16 |
vit_b_32 | vit_small (torchvision's VisionTransformer on 32x32 images with
4x4 patches, 2 layers of 4 heads, 64 features, MLP 128, 10 classes). INPUT_SHAPE is
comma separated (batch first). INPUT.f32 / ORT_OUTPUT.f32 are raw little-endian
float32: the input the vitest test fed to onnxruntime-node, and what it got.

The weights come from the ONNX file's initializers, in graph order, zipped
with the reference's state_dict entries of the same shapes in order
(num_batches_tracked is not a weight and is skipped). The reference then runs
the same input in eval mode; the maximum absolute difference from
onnxruntime's output is printed and must be at most the tolerance (1e-4).
"""
import json
import sys

import numpy as np
import onnx
import torch
import torchvision
from onnx import numpy_helper
from torch import nn

TOLERANCE = 1e-4


class LeNet5(nn.Module):
    """The classic layout, as specs/lenet5.net writes it (tanh, 2x2 average pooling, softmax)."""

    def __init__(self, classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2),
            nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
            nn.Conv2d(16, 120, 5), nn.Tanh(),
        )
        self.classifier = nn.Sequential(nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, classes), nn.Softmax(dim=1))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def reference(name):
    m = torchvision.models
    if name == "lenet5":
        return LeNet5()
    if name == "alexnet":
        return m.alexnet(weights=None)
    if name == "resnet18":
        return m.resnet18(weights=None)
    if name == "googlenet":
        # no auxiliary classifiers, no input re-normalisation: as specs/googlenet.net
        return m.googlenet(weights=None, aux_logits=False, transform_input=False, init_weights=False)
    if name == "vgg11_bn":
        return m.vgg11_bn(weights=None)
    if name in ("vit_b_16", "vit_b_32"):
        return getattr(m, name)(weights=None)
    if name == "vit_small":
        from torchvision.models.vision_transformer import VisionTransformer
        return VisionTransformer(image_size=32, patch_size=4, num_layers=2,
                                 num_heads=4, hidden_dim=64, mlp_dim=128,
                                 num_classes=10)
    if name == "inception_v3":
        # no auxiliary classifier, no input re-normalisation: as specs/inception.net
        return m.inception_v3(weights=None, aux_logits=False, transform_input=False, init_weights=False)
    if name in TORCHVISION:
        return getattr(m, name)(weights=None)
    raise SystemExit(f"unknown reference model {name}")


# today's CNNs, built as torchvision builds them (specs/mobilenet.net, efficientnet.net, ...)
TORCHVISION = {
    "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0",
    "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "squeezenet1_0", "squeezenet1_1",
    "mnasnet1_0", "densenet121", "convnext_tiny", "efficientnet_v2_s",
    "regnet_x_400mf", "regnet_y_400mf",
}


def main(name, onnx_file, input_file, ort_file, shape):
    torch.set_num_threads(max(1, torch.get_num_threads()))
    shape = [int(s) for s in shape.split(",")]
    model = reference(name)
    graph = onnx.load(onnx_file).graph
    inits = [(t.name, numpy_helper.to_array(t)) for t in graph.initializer if t.data_type == onnx.TensorProto.FLOAT]
    state = model.state_dict()
    keys = [k for k in state if not k.endswith("num_batches_tracked")]
    if "class_token" in keys:
        # torchvision's ViT registers its class token first; alexnetc's
        # classtoken comes after the patch-embedding conv
        keys.remove("class_token")
        keys.insert(2, "class_token")
    for scale in [k for k in keys if k.endswith(".layer_scale")]:
        # ConvNeXt's CNBlock registers layer_scale before its block; alexnetc's
        # scale comes after the block's last dense
        keys.remove(scale)
        prefix = scale[: -len("layer_scale")] + "block."
        last = max(i for i, k in enumerate(keys) if k.startswith(prefix))
        keys.insert(last + 1, scale)
    for proj in [k for k in keys if ".proj.0.weight" in k]:
        # RegNet's block registers its projection shortcut before its
        # transform f; alexnetc's shortcut comes after the residual's body
        prefix = proj[: -len("proj.0.weight")]
        moved = [k for k in keys if k.startswith(prefix + "proj.")]
        for k in moved:
            keys.remove(k)
        last = max(i for i, k in enumerate(keys) if k.startswith(prefix + "f."))
        keys[last + 1:last + 1] = moved
    if len(keys) != len(inits):
        raise SystemExit(f"{len(inits)} initializers in the ONNX file but {len(keys)} tensors in {name}'s state_dict")
    # the state_dict itself, so its _metadata (MNASNet's version) is kept
    new_state = state
    mapping = []
    for key, (iname, arr) in zip(keys, inits):
        if tuple(state[key].shape) != arr.shape:
            raise SystemExit(f"shape mismatch: {iname} {arr.shape} vs {key} {tuple(state[key].shape)}")
        new_state[key] = torch.from_numpy(arr.copy())
        mapping.append([iname, key])
    model.load_state_dict(new_state)
    model.eval()

    x = np.fromfile(input_file, dtype="<f4").reshape(shape)
    ort_out = np.fromfile(ort_file, dtype="<f4")
    with torch.no_grad():
        y = model(torch.from_numpy(x)).numpy()
    ort_out = ort_out.reshape(y.shape)
    diff = float(np.max(np.abs(y.astype(np.float64) - ort_out.astype(np.float64))))
    result = {
        "model": name,
        "max_abs_diff": diff,
        "max_abs_output": float(np.max(np.abs(y))),
        "output_shape": list(y.shape),
        "tensors": len(mapping),
        "mapping_head": mapping[:3],
        "mapping_tail": mapping[-2:],
    }
    print(json.dumps(result))
    if not diff <= TOLERANCE:
        raise SystemExit(f"{name}: max abs difference {diff} exceeds {TOLERANCE}")


if __name__ == "__main__":
    main(*sys.argv[1:])
