"""Convert MediaPipe's face landmark .tflite (and the iris model) to ONNX, once.

The graphs use only DEQUANTIZE (float16 weights, folded in), CONV_2D, DEPTHWISE_CONV_2D, PRELU,
ADD, MAX_POOL_2D, PAD and RESHAPE (a transpose back to NHWC, then a reshape); each of the others
maps to one ONNX operator, so this short converter replaces tf2onnx (which needs TensorFlow).
Inside the graph tensors are NCHW; the ONNX model keeps the tflite interface (NHWC float input,
RGB in [0, 1] as fer_live feeds it; outputs shaped as in the tflite file) with any batch size.

    pip install tflite onnx          # build-time only
    python assets/models/tflite_to_onnx.py face_landmark.tflite face_landmark.onnx
"""

from __future__ import annotations

import sys

import numpy as np
import onnx
import tflite
from onnx import TensorProto, helper, numpy_helper

OPS = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
NUMPY_TYPES = {
    tflite.TensorType.FLOAT32: np.float32,
    tflite.TensorType.FLOAT16: np.float16,
    tflite.TensorType.INT32: np.int32,
}


def convert(source: str, target: str) -> None:
    model = tflite.Model.GetRootAsModel(open(source, "rb").read(), 0)
    graph = model.Subgraphs(0)
    constants: dict[int, np.ndarray] = {}
    for index in range(graph.TensorsLength()):
        tensor = graph.Tensors(index)
        data = model.Buffers(tensor.Buffer()).DataAsNumpy()
        if isinstance(data, np.ndarray) and data.size:
            array = np.frombuffer(data.tobytes(), NUMPY_TYPES[tensor.Type()])
            constants[index] = array.reshape(tensor.ShapeAsNumpy()) if tensor.ShapeLength() else array

    def name(index: int) -> str:
        return f"t{index}"

    nodes, initializers = [], []

    def constant(array: np.ndarray, label: str) -> str:
        initializers.append(numpy_helper.from_array(array, label))
        return label

    def activation(code: int, output: str) -> str:
        if code == tflite.ActivationFunctionType.NONE:
            return output
        if code == tflite.ActivationFunctionType.RELU:
            nodes.append(helper.make_node("Relu", [output + "_pre"], [output]))
            return output + "_pre"
        raise NotImplementedError(f"fused activation {code}")

    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        code = model.OperatorCodes(op.OpcodeIndex())
        kind = OPS[max(code.BuiltinCode(), code.DeprecatedBuiltinCode())]
        inputs = list(op.InputsAsNumpy())
        out = op.Outputs(0)
        if kind == "DEQUANTIZE":
            constants[out] = constants[inputs[0]].astype(np.float32)
            continue
        if kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            options_type = tflite.Conv2DOptions if kind == "CONV_2D" else tflite.DepthwiseConv2DOptions
            options = options_type()
            table = op.BuiltinOptions()
            options.Init(table.Bytes, table.Pos)
            weight = constants[inputs[1]]  # conv: O,H,W,I; depthwise: 1,H,W,C
            if kind == "CONV_2D":
                weight, group = weight.transpose(0, 3, 1, 2), 1
            else:
                weight, group = weight.transpose(3, 0, 1, 2), weight.shape[3]
            args = [name(inputs[0]), constant(np.ascontiguousarray(weight), f"w{i}")]
            if len(inputs) > 2 and inputs[2] >= 0:
                args.append(constant(constants[inputs[2]].astype(np.float32), f"b{i}"))
            pad = "SAME_UPPER" if options.Padding() == tflite.Padding.SAME else "VALID"
            target_name = activation(options.FusedActivationFunction(), name(out))
            nodes.append(
                helper.make_node(
                    "Conv",
                    args,
                    [target_name],
                    group=group,
                    auto_pad=pad,
                    strides=[options.StrideH(), options.StrideW()],
                    dilations=[options.DilationHFactor(), options.DilationWFactor()],
                )
            )
        elif kind == "PRELU":
            alpha = constants[inputs[1]].astype(np.float32)  # 1,1,C
            alpha = alpha.reshape(-1, 1, 1)
            nodes.append(helper.make_node("PRelu", [name(inputs[0]), constant(alpha, f"a{i}")], [name(out)]))
        elif kind == "ADD":
            options = tflite.AddOptions()
            table = op.BuiltinOptions()
            options.Init(table.Bytes, table.Pos)
            target_name = activation(options.FusedActivationFunction(), name(out))
            nodes.append(helper.make_node("Add", [name(inputs[0]), name(inputs[1])], [target_name]))
        elif kind == "MAX_POOL_2D":
            options = tflite.Pool2DOptions()
            table = op.BuiltinOptions()
            options.Init(table.Bytes, table.Pos)
            pad = "SAME_UPPER" if options.Padding() == tflite.Padding.SAME else "VALID"
            target_name = activation(options.FusedActivationFunction(), name(out))
            nodes.append(
                helper.make_node(
                    "MaxPool",
                    [name(inputs[0])],
                    [target_name],
                    auto_pad=pad,
                    kernel_shape=[options.FilterHeight(), options.FilterWidth()],
                    strides=[options.StrideH(), options.StrideW()],
                )
            )
        elif kind == "PAD":
            nhwc = constants[inputs[1]].astype(np.int64)  # 4×2 (before, after) in NHWC order
            nchw = nhwc[[0, 3, 1, 2]]
            pads = np.concatenate([nchw[:, 0], nchw[:, 1]])
            nodes.append(helper.make_node("Pad", [name(inputs[0]), constant(pads, f"p{i}")], [name(out)]))
        elif kind == "RESHAPE":
            shape = graph.Tensors(out).ShapeAsNumpy().astype(np.int64)
            shape[0] = -1  # any batch size
            nodes.append(helper.make_node("Transpose", [name(inputs[0])], [f"nhwc{i}"], perm=[0, 2, 3, 1]))
            nodes.append(helper.make_node("Reshape", [f"nhwc{i}", constant(shape, f"s{i}")], [name(out)]))
        else:
            raise NotImplementedError(kind)

    graph_inputs, graph_outputs = [], []
    for k in range(graph.InputsLength()):
        index = graph.Inputs(k)
        tensor = graph.Tensors(index)
        graph_inputs.append(
            helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", *map(int, tensor.ShapeAsNumpy()[1:])])
        )
        nodes.insert(0, helper.make_node("Transpose", ["input"], [name(index)], perm=[0, 3, 1, 2]))
    for k in range(graph.OutputsLength()):
        index = graph.Outputs(k)
        tensor = graph.Tensors(index)
        label = tensor.Name().decode()
        shape = ["batch", *map(int, tensor.ShapeAsNumpy()[1:])]
        perm = [0, 2, 3, 1] if len(shape) == 4 else None
        if perm:
            nodes.append(helper.make_node("Transpose", [name(index)], [label], perm=perm))
        else:
            nodes.append(helper.make_node("Identity", [name(index)], [label]))
        graph_outputs.append(helper.make_tensor_value_info(label, TensorProto.FLOAT, shape))
    onnx_graph = helper.make_graph(nodes, source.rsplit("/", 1)[-1], graph_inputs, graph_outputs, initializers)
    onnx_model = helper.make_model(
        onnx_graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="fer_live tflite_to_onnx"
    )
    onnx_model.ir_version = 8
    onnx.checker.check_model(onnx_model)
    onnx.save(onnx_model, target)


if __name__ == "__main__":
    convert(sys.argv[1], sys.argv[2])
