"""fp32 → fp16 conversion of the exported tower graph.

Torch 1.13 has no fp16 kernels on CPU, so the tower cannot be traced in half precision here; the fp32 graph is
traced and its float tensors are converted afterwards. No converter library (onnxconverter-common) is available,
and the graph uses few op types, so this handles exactly what the tower needs and refuses anything else loudly.
ONNX Runtime runs LayerNormalization with fp32 statistics (stash_type=1) and, on CPU, inserts fp32 casts for ops
without fp16 kernels, so the model runs on both CPU and CUDA.
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper

FP16_MAX = float(np.finfo(np.float16).max)
# Ops whose float attributes/inputs are handled below, or which carry no float data of their own.
_KNOWN_OPS = {
    "Add", "Cast", "Concat", "Constant", "ConstantOfShape", "Conv", "Div", "Erf", "Expand", "Flatten", "Gather",
    "LayerNormalization", "MatMul", "Mul", "Reshape", "Shape", "Sigmoid", "Slice", "Softmax", "Split", "Squeeze",
    "Sub", "Transpose", "Unsqueeze", "ReduceL2", "Clip", "Gemm", "Sqrt", "Pow", "ReduceMean", "Equal", "Where",
    "Identity", "Tile",
}


def _to_fp16(tensor: onnx.TensorProto, what: str) -> onnx.TensorProto:
    array = numpy_helper.to_array(tensor)
    finite = array[np.isfinite(array)]
    if finite.size and float(np.abs(finite).max()) > FP16_MAX:
        raise ValueError(f"{what} holds {float(np.abs(finite).max()):.4g}, beyond float16's range")
    return numpy_helper.from_array(array.astype(np.float16), tensor.name)


def convert_float_to_float16(model: onnx.ModelProto) -> onnx.ModelProto:
    graph = model.graph
    for i, init in enumerate(graph.initializer):
        if init.data_type == TensorProto.FLOAT:
            graph.initializer[i].CopyFrom(_to_fp16(init, f"initializer {init.name}"))
    for node in graph.node:
        if node.op_type not in _KNOWN_OPS:
            raise ValueError(f"fp16 conversion does not know op {node.op_type} (node {node.name}); extend onnx_fp16.py")
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH or attr.type == onnx.AttributeProto.GRAPHS:
                raise ValueError(f"fp16 conversion does not handle subgraphs (node {node.name})")
            if node.op_type in ("Constant", "ConstantOfShape") and attr.name == "value" \
                    and attr.t.data_type == TensorProto.FLOAT:
                attr.t.CopyFrom(_to_fp16(attr.t, f"constant {node.name}"))
            elif node.op_type == "Constant" and attr.name in ("value_float", "value_floats"):
                raise ValueError(f"Constant {node.name} uses {attr.name}; not handled by fp16 conversion")
            elif node.op_type == "Cast" and attr.name == "to" and attr.i == TensorProto.FLOAT:
                attr.i = TensorProto.FLOAT16
    for value in list(graph.input) + list(graph.output) + list(graph.value_info):
        tensor_type = value.type.tensor_type
        if tensor_type.elem_type == TensorProto.FLOAT:
            tensor_type.elem_type = TensorProto.FLOAT16
    # Types everywhere must now agree; strict inference fails on any fp32/fp16 mix left behind.
    del graph.value_info[:]
    onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    return model


def float16_exact(array: np.ndarray) -> np.ndarray:
    """float32 values that are exactly representable in float16 (so a float16 model sees the same numbers)."""
    return array.astype(np.float16).astype(np.float32)


__all__ = ["convert_float_to_float16", "float16_exact"]
