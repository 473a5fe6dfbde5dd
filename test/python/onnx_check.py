"""Decode an ONNX file with the official onnx package and run its checker.

Usage: onnx_check.py [--no-sums] MODEL.onnx
Runs onnx.checker.check_model(full_check=True) (which includes strict shape
inference, so our declared value_info shapes are cross-checked too) and prints
a JSON summary of what the file contains, for the vitest test to compare.
--no-sums leaves out the per-initializer sums (slow for VGG-sized models).
"""
import json
import sys

import onnx
from onnx import numpy_helper, shape_inference


def dims(value_info):
    out = []
    for d in value_info.type.tensor_type.shape.dim:
        out.append(d.dim_param if d.HasField("dim_param") else d.dim_value)
    return out


def main(path, sums=True):
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    inferred = shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    g = model.graph
    summary = {
        "ir_version": model.ir_version,
        "opset": [[o.domain, o.version] for o in model.opset_import],
        "producer_name": model.producer_name,
        "graph_name": g.name,
        "inputs": [[v.name, dims(v), v.type.tensor_type.elem_type] for v in g.input],
        "outputs": [[v.name, dims(v), v.type.tensor_type.elem_type] for v in g.output],
        "nodes": [[n.name, n.op_type, list(n.input), list(n.output)] for n in g.node],
        "initializers": [[t.name, list(t.dims), t.data_type] for t in g.initializer],
        "value_info": len(g.value_info),
        "inferred_output": dims(inferred.graph.output[0]),
        "metadata": {p.key: p.value for p in model.metadata_props},
        # a checksum-like statistic to compare with what we generated
        "weight_sums": {t.name: float(numpy_helper.to_array(t).astype("float64").sum()) for t in g.initializer} if sums else {},
        "attributes": {n.name: {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute} for n in g.node},
    }

    def default(o):
        if isinstance(o, bytes):
            return o.decode()
        raise TypeError(type(o))

    print(json.dumps(summary, default=default))


if __name__ == "__main__":
    args = sys.argv[1:]
    no_sums = "--no-sums" in args
    main([a for a in args if a != "--no-sums"][0], sums=not no_sums)
