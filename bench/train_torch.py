# One network's training step in PyTorch (CPU), as a server for bench/train-kernels.mjs:
# the same architecture as the shipped spec (torchvision's for the ImageNet networks),
# cross-entropy, the same optimizer, one random batch.
# stdin, one JSON line each: {"run": seconds, "min": steps} -> {"images", "wall", "cpu"}
#                            {"rss": true} -> {"maxRss": bytes}
# argv: network batch optimizer threads
import json, resource, sys, time
import torch, torch.nn as nn, torchvision

name, batch, optimizer, threads = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
torch.set_num_threads(threads)
torch.manual_seed(0)

def lenet5():
    return nn.Sequential(nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
                         nn.Conv2d(16, 120, 5), nn.Tanh(), nn.Flatten(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10)), (1, 32, 32), 10

def cnn():
    return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10)), (1, 28, 28), 10

def keras_lenet():
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10)), (1, 28, 28), 10

def cifar_cnn():
    def cbr(i, o):
        return [nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU()]
    return nn.Sequential(*cbr(3, 32), *cbr(32, 32), nn.MaxPool2d(2), *cbr(32, 64), *cbr(64, 64), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(4096, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 10)), (3, 32, 32), 10

def vit_tiny28():
    # specs/vit.net's ViT_Tiny28: 4×4 patches of a 28² one-channel image, width 64, 4 layers of 4 heads, MLP 128
    m = torchvision.models.VisionTransformer(image_size=28, patch_size=4, num_layers=4, num_heads=4, hidden_dim=64, mlp_dim=128, num_classes=10)
    m.conv_proj = nn.Conv2d(1, 64, kernel_size=4, stride=4)
    return m, (1, 28, 28), 10

def blas():
    """The BLAS and oneDNN libraries this process has loaded (after a step): OpenBLAS, MKL or Debian's reference libblas."""
    libs = set()
    with open('/proc/self/maps') as maps:
        for line in maps:
            path = line.split()[-1] if '/' in line else ''
            name = path.rsplit('/', 1)[-1]
            if 'blas' in name or 'mkl' in name:
                libs.add(path)
    if any('openblas' in p for p in libs):
        return 'OpenBLAS (' + ', '.join(sorted(p for p in libs if 'openblas' in p and 'libopenblas' in p) or sorted(libs)) + ')'
    if any('mkl' in p for p in libs):
        return 'MKL'
    if libs:
        return 'reference (' + ', '.join(sorted(libs)) + ')'
    return 'none loaded'

models = {
    'KerasLeNet': keras_lenet,
    'CifarCNN': cifar_cnn,
    'LeNet5': lenet5,
    'CNN': cnn,
    'AlexNetTorchvision': lambda: (torchvision.models.alexnet(), (3, 224, 224), 1000),
    'VGG11': lambda: (torchvision.models.vgg11(), (3, 224, 224), 1000),
    'ResNet18': lambda: (torchvision.models.resnet18(), (3, 224, 224), 1000),
    'GoogLeNet': lambda: (torchvision.models.googlenet(aux_logits=False, init_weights=False), (3, 224, 224), 1000),
    'MobileNetV2': lambda: (torchvision.models.mobilenet_v2(), (3, 224, 224), 1000),
    'EfficientNetB0': lambda: (torchvision.models.efficientnet_b0(), (3, 224, 224), 1000),
    'ConvNeXtTiny': lambda: (torchvision.models.convnext_tiny(), (3, 224, 224), 1000),
    'ViT_B_32': lambda: (torchvision.models.vit_b_32(), (3, 224, 224), 1000),
    'ViT_Tiny28': vit_tiny28,
}
model, shape, classes = models[name]()
model.train()
opt = torch.optim.Adam(model.parameters(), lr=1e-3) if optimizer == 'adam' else torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
lossf = nn.CrossEntropyLoss()
x = torch.randn(batch, *shape)
y = torch.randint(0, classes, (batch,))

def step():
    opt.zero_grad()
    loss = lossf(model(x), y)
    loss.backward()
    opt.step()

step()
print(json.dumps({'ready': True, 'blas': blas(), 'torch': torch.__version__}), flush=True)
for line in sys.stdin:
    q = json.loads(line)
    if 'run' in q:
        n, t, c = 0, time.perf_counter(), time.process_time()
        while n < q['min'] or time.perf_counter() - t < q['run']:
            step()
            n += 1
        print(json.dumps({'images': n * batch, 'wall': time.perf_counter() - t, 'cpu': time.process_time() - c}), flush=True)
    elif q.get('rss'):
        print(json.dumps({'maxRss': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}), flush=True)
