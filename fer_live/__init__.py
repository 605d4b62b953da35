"""fer_live: live facial affect (8 expressions, valence, arousal, action units) from a camera, a video or photos.

The Python API (`from fer_live import Detector, read_results`) is loaded on first use, so that
`import fer_live` stays cheap for the command line and the window: see fer_live.api.
"""

__version__ = "0.1.0"
__all__ = ["Detector", "read_results", "__version__"]

_API_NAMES = {"Detector", "read_results"}


def __getattr__(name: str):
    # PEP 562: the API module (pandas, torch, OpenCV) is imported only when a name of it is asked for.
    if name in _API_NAMES:
        import importlib

        return getattr(importlib.import_module("fer_live.api"), name)
    raise AttributeError(f"module 'fer_live' has no attribute {name!r}")
