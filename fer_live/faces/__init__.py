"""Faces in a frame: detection (MediaPipe BlazeFace), tracking (stable IDs) and per-face temporal smoothing."""
