"""Small PyTorch models exported by torch.onnx.export, for the importer's tests.

usage: export_cases.py OUTDIR
Writes OUTDIR/NAME.onnx for each case and prints JSON {NAME: {"params": n}}:
good cases cover the ops and joins alexnetc expresses (and exporter habits
such as x.view(N, -1) without constant folding); bad cases are models the
importer must refuse.
"""
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

out = sys.argv[1]
torch.manual_seed(0)
results = {}


class ViewHead(nn.Module):
    """x.view(x.size(0), -1): Shape → Gather → Unsqueeze → Concat → Reshape without constant folding."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1, dilation=1)
        self.bn = nn.BatchNorm2d(8, eps=1e-3, momentum=0.01)
        self.fc = nn.Linear(8 * 8 * 8, 10)

    def forward(self, x):
        x = F.leaky_relu(self.bn(self.conv(x)), 0.2)
        x = x.view(x.size(0), -1)
        return torch.softmax(self.fc(x), dim=1)


class Misc(nn.Module):
    """Grouped dilated conv, padding, pools with ceil mode and padding, tanh, sigmoid, concat, a MatMul + Add."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 12, (3, 5), stride=(1, 2), padding=(1, 2), dilation=(2, 1))
        self.b = nn.Conv2d(12, 12, 3, padding=1, groups=3, bias=False)
        self.c1 = nn.Conv2d(12, 4, 1)
        self.c2 = nn.Conv2d(12, 6, 3, padding=1)
        self.avg = nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
        self.max = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.w = nn.Parameter(torch.randn(10 * 4 * 3, 7) * 0.1)
        self.bias = nn.Parameter(torch.randn(7) * 0.1)

    def forward(self, x):
        x = torch.tanh(self.a(x))
        x = torch.sigmoid(self.b(x))
        x = torch.cat([self.c1(x), torch.relu(self.c2(x))], dim=1)
        x = self.max(self.avg(x))
        x = torch.flatten(x, 1)
        return x @ self.w + self.bias


class Res(nn.Module):
    """Two residual blocks of the same structure with an identity shortcut, and a sum of three branches."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.blocks = nn.ModuleList([nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1)) for _ in range(2)])
        self.p = nn.Conv2d(8, 8, 1)
        self.q = nn.Conv2d(8, 8, 3, padding=1)
        self.head = nn.Linear(8, 5)

    def forward(self, x):
        x = self.stem(x)
        for b in self.blocks:
            x = torch.relu(x + b(x))
        x = self.p(x) + self.q(x) + x
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.head(x)


class PadConv(nn.Module):
    """An explicit F.pad before a convolution (asymmetric), as TensorFlow-style 'same' padding is often written."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, stride=2)

    def forward(self, x):
        return torch.relu(self.conv(F.pad(x, (0, 1, 0, 1))))


class CountPad(nn.Module):
    def forward(self, x):
        return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=True)


class TwoInputs(nn.Module):
    def forward(self, a, b):
        return torch.relu(a) + b


class Hardswish(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        return F.hardswish(self.conv(x))


class MulBranches(nn.Module):
    # two computed branches multiplied: not a gate (one factor must be the value itself)
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, padding=1)
        self.b = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        return self.a(x) * self.b(x)


class UnevenSplit(nn.Module):
    # channels sliced 1 + 3: alexnetc's split divides them equally
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.other = nn.Conv2d(3, 3, 1)

    def forward(self, x):
        y = self.conv(x)
        return torch.cat([y[:, :1], self.other(y[:, 1:])], 1)


class HalfShuffle(nn.Module):
    # a Reshape to channel groups and straight back, without the Transpose of a channel shuffle
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        y = self.conv(x)
        n, c, h, w = y.shape
        return torch.relu(y.view(n, 2, c // 2, h, w).view(n, c, h, w))


class Dense(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3 * 16 * 16, 4)

    def forward(self, x):
        return self.fc(torch.flatten(x, 1))


def export(name, model, *, shape=(1, 3, 16, 16), dynamic=None, opset=17, fold=True, inputs=None):
    model.eval()
    x = inputs if inputs is not None else (torch.randn(*shape),)
    names = [f'in{i}' for i in range(len(x))] if inputs is not None else ['input']
    axes = dynamic if dynamic is not None else {names[0]: {0: 'N'}, 'output': {0: 'N'}}
    torch.onnx.export(model, x, os.path.join(out, f'{name}.onnx'), opset_version=opset, input_names=names, output_names=['output'],
                      dynamic_axes=axes, do_constant_folding=fold, training=torch.onnx.TrainingMode.PRESERVE)
    results[name] = {'params': sum(p.numel() for p in model.parameters())}


with torch.no_grad():
    view = ViewHead()
    view.bn.running_mean.uniform_(-0.1, 0.1)
    view.bn.running_var.uniform_(0.5, 1.5)
    export('view_nofold', view, fold=False)
    export('misc', Misc(), shape=(1, 3, 16, 16))
    export('res', Res())
    export('padconv', PadConv())
    export('countpad', CountPad())
    export('two_inputs', TwoInputs(), inputs=(torch.randn(1, 3, 8, 8), torch.randn(1, 3, 8, 8)), dynamic={})
    export('hardswish', Hardswish())
    export('dynamic_hw', Dense(), dynamic={'input': {0: 'N', 2: 'H', 3: 'W'}, 'output': {0: 'N'}})
    export('opset9', Dense(), opset=9)
    export('mul_branches', MulBranches())
    export('uneven_split', UnevenSplit())
    export('half_shuffle', HalfShuffle())
    nan = Dense()
    nan.fc.weight[1, 2] = float('nan')
    export('nan_weights', nan)
print(json.dumps(results))
