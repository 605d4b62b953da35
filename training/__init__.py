"""Training and evaluation of fer_live's SE-ResNet, and the int8 build; imports only the parts of
fer_live listed in tests/test_layering.py (shared vocabulary, model, input preparation, the ONNX and
int8 runtimes, the detector), and fer_live never imports it."""
