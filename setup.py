"""The top-level assets/ folder travels inside the package as `fer_live.bundled` (wheel and sdist),
so an installed fer_live finds its weights, detector models and demo video with importlib.resources."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["fer_live*", "training*"]), "fer_live.bundled"],
    package_dir={"fer_live.bundled": "assets"},
    # Data only: the scripts that made some of these files (make_demo.py, models/*.py) stay in the repository.
    package_data={
        "fer_live.bundled": [
            *("*.pt", "*.onnx", "*.md", "demo/*.mp4", "demo/*.md"),
            *("models/*.tflite", "models/*.npz", "models/*.md", "models/LICENSE*"),
        ]
    },
)
