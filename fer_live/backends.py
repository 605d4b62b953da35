"""Names of the model runtimes, importable without torch (the CLIs list them in --help)."""

BACKENDS = ("auto", "torch", "onnx", "onnx-int8")
