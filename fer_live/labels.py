"""The one table of expression classes: names, order, display colours and circumplex positions.

Order follows AffectNet's first eight codes; every model output, CSV column and widget uses it.
"""

from __future__ import annotations

EXPRESSIONS: tuple[str, ...] = (
    "neutral",
    "happy",
    "sad",
    "surprise",
    "fear",
    "disgust",
    "anger",
    "contempt",
)
NUM_CLASSES = len(EXPRESSIONS)
INDEX = {name: i for i, name in enumerate(EXPRESSIONS)}

# Display colours (hex RGB), chosen to stay distinguishable for common colour-vision deficiencies.
COLOURS: dict[str, str] = {
    "neutral": "#9e9e9e",
    "happy": "#f2c200",
    "sad": "#3b6fd8",
    "surprise": "#ff8c1a",
    "fear": "#8e44ad",
    "disgust": "#2e9e44",
    "anger": "#d62728",
    "contempt": "#8c564b",
}

# (valence, arousal) of each class on Russell's circumplex, in [-1, 1]. The angles follow
# Russell (1980) and the AffectNet V/A annotations' per-class means, pushed out so classes
# are legible as landmarks on the plot.
CIRCUMPLEX: dict[str, tuple[float, float]] = {
    "neutral": (0.0, 0.0),
    "happy": (0.8, 0.35),
    "sad": (-0.7, -0.4),
    "surprise": (0.2, 0.85),
    "fear": (-0.55, 0.75),
    "disgust": (-0.7, 0.3),
    "anger": (-0.5, 0.8),
    "contempt": (-0.55, 0.1),
}
