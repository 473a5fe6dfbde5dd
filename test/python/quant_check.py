"""Check an int8 ONNX file against its float original with the official onnx package.

Usage: quant_check.py FLOAT.onnx QUANTIZED.onnx
       quant_check.py --ops MODEL.onnx   (only count the ops, e.g. of the graph
                                          onnxruntime optimized, which holds its
                                          contrib ops and is not checked)
Runs onnx.checker.check_model(full_check=True) on the quantized model, then
for every DequantizeLinear that reads an int8 initializer, finds the float
weight it replaces (the Conv/Gemm input of the same position in the float
graph) and checks per output channel that q * scale is within half a step of
the float value, that q lies in [-127, 127] and the zero point is 0. Prints a
JSON summary (op counts, weights checked, worst error in steps).
"""
import json
import sys
from collections import Counter

import numpy as np
import onnx
from onnx import numpy_helper


def main(float_path, quant_path):
    fm = onnx.load(float_path)
    qm = onnx.load(quant_path)
    onnx.checker.check_model(qm, full_check=True)
    finit = {t.name: numpy_helper.to_array(t) for t in fm.graph.initializer}
    qinit = {t.name: numpy_helper.to_array(t) for t in qm.graph.initializer}
    qtypes = {t.name: t.data_type for t in qm.graph.initializer}
    producer = {o: n for n in qm.graph.node for o in n.output}

    # the float weights, in the order the Conv/Gemm nodes read them, and
    # the [units, in] weights a Transpose turns for a MatMul (dense on
    # tokens, attention's projections): (node, the weight's input slot)
    def weighted(m, init):
        for n in m.graph.node:
            if n.op_type in ("Conv", "Gemm"):
                yield n, 1
            elif n.op_type == "Transpose" and (
                    n.input[0] in init or (
                        n.input[0] in producer and m is qm and
                        producer[n.input[0]].op_type == "DequantizeLinear")):
                yield n, 0
    fweights = [n.input[slot] for n, slot in weighted(fm, finit)]
    qconsumers = list(weighted(qm, qinit))
    assert len(fweights) == len(qconsumers), (len(fweights), len(qconsumers))
    worst = 0.0
    checked = 0
    for fname, (qnode, slot) in zip(fweights, qconsumers):
        dq = producer[qnode.input[slot]]
        assert dq.op_type == "DequantizeLinear", dq.op_type
        q = qinit[dq.input[0]]
        assert qtypes[dq.input[0]] == onnx.TensorProto.INT8, qtypes[dq.input[0]]
        scale = qinit[dq.input[1]]
        axis = [a.i for a in dq.attribute if a.name == "axis"]
        assert axis == [0], axis
        if len(dq.input) > 2:
            assert not qinit[dq.input[2]].any(), "weight zero point must be 0"
        assert q.min() >= -127 and q.max() <= 127
        w = finit[fname]
        assert q.shape == w.shape, (q.shape, w.shape)
        s = scale.reshape((-1,) + (1,) * (w.ndim - 1)).astype(np.float64)
        err = np.abs(q.astype(np.float64) * s - w.astype(np.float64)) / s
        worst = max(worst, float(err.max()))
        checked += 1
    print(json.dumps({
        "ops": dict(Counter(n.op_type for n in qm.graph.node)),
        "weights_checked": checked,
        "worst_error_in_steps": worst,
        "int8_initializers": sum(1 for t in qtypes.values() if t == onnx.TensorProto.INT8),
        "int32_initializers": sum(1 for t in qtypes.values() if t == onnx.TensorProto.INT32),
        "metadata": {p.key: p.value for p in qm.metadata_props},
    }))


if __name__ == "__main__":
    if sys.argv[1] == "--ops":
        print(json.dumps(dict(Counter(n.op_type for n in onnx.load(sys.argv[2]).graph.node))))
    else:
        main(sys.argv[1], sys.argv[2])
