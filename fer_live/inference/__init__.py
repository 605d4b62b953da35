"""Inference: the engine (batched crops → probabilities, valence, arousal), its runtimes
(torch, onnxruntime fp32 and int8) and input preparation."""
