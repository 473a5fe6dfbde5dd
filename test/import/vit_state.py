"""torchvision's small VisionTransformer (export_vit.py's, the same random weights) as a checkpoint.

usage: vit_state.py save DIR
         DIR/torchvision.safetensors: its state_dict under torchvision's keys (class_token,
         conv_proj.weight, encoder.layers.encoder_layer_0.self_attention.in_proj_weight, …), float32,
         as safetensors.torch.save_file(model.state_dict(), …) writes it; DIR/input.bin: a
         seeded float32 input [2, 3, 32, 32]; DIR/output.bin: torchvision's output for it
       vit_state.py run DIR MODULE.py CLASS WEIGHTS.safetensors
         the module alexnetc generated (--target torch), its load_safetensors(WEIGHTS), on
         DIR/input.bin; prints JSON {max_abs_diff, max_abs} against DIR/output.bin
"""
import importlib.util
import json
import os
import struct
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, t in tensors.items():
        data = t.detach().contiguous().float().numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header)
    text += ' ' * ((8 - len(text) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text.encode())
        for b in blobs:
            f.write(b)


mode, folder = sys.argv[1], sys.argv[2]
x = torch.from_numpy(np.random.default_rng(5).standard_normal((2, 3, 32, 32)).astype(np.float32))
if mode == 'save':
    spec = importlib.util.spec_from_file_location('export_vit', os.path.join(HERE, 'export_vit.py'))
    export_vit = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(export_vit)
    model = export_vit.build('small')
    write_safetensors(os.path.join(folder, 'torchvision.safetensors'), model.state_dict())
    x.numpy().tofile(os.path.join(folder, 'input.bin'))
    with torch.no_grad():
        model(x).numpy().astype('<f4').tofile(os.path.join(folder, 'output.bin'))
    print(json.dumps({'keys': list(model.state_dict().keys())}))
elif mode == 'run':
    module_file, cls, weights = sys.argv[3], sys.argv[4], sys.argv[5]
    spec = importlib.util.spec_from_file_location('generated', module_file)
    generated = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generated)
    model = getattr(generated, cls)()
    model.load_safetensors(weights)
    model.eval()
    with torch.no_grad():
        y = model(x).numpy()
    want = np.fromfile(os.path.join(folder, 'output.bin'), dtype='<f4').reshape(y.shape)
    print(json.dumps({'max_abs_diff': float(np.abs(y - want).max()), 'max_abs': float(np.abs(want).max())}))
else:
    raise SystemExit(f'unknown mode {mode}')
