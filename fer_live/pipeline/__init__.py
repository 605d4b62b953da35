"""Frames in, results out (Qt-free): sources (camera, file, folder), the per-frame pipeline,
the threaded stream, pacing, wall-clock stamps and the annotate loop."""
