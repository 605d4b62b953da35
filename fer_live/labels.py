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

# FACS action units the model reads (Ekman & Friesen's numbers), in output and CSV column order:
# column → (FACS name, what it looks like in plain words). Intensities are in [0, 1].
ACTION_UNITS: dict[str, tuple[str, str]] = {
    "au01": ("inner brow raiser", "the inner ends of the eyebrows go up"),
    "au02": ("outer brow raiser", "the outer ends of the eyebrows go up"),
    "au04": ("brow lowerer", "the brows are pulled down and together"),
    "au05": ("upper lid raiser", "the eyes open wide, showing white above the iris"),
    "au06": ("cheek raiser", "the cheeks lift and crow's feet form around the eyes"),
    "au07": ("lid tightener", "the eyelids tense and narrow the eyes"),
    "au09": ("nose wrinkler", "the nose wrinkles and the sides of the nose lift"),
    "au10": ("upper lip raiser", "the upper lip is drawn up"),
    "au12": ("lip corner puller", "the lip corners are pulled up and back (smile)"),
    "au14": ("dimpler", "the lip corners tighten inward, dimpling the cheeks"),
    "au15": ("lip corner depressor", "the lip corners are pulled down"),
    "au17": ("chin raiser", "the chin boss pushes the lower lip up"),
    "au20": ("lip stretcher", "the lips are stretched sideways"),
    "au23": ("lip tightener", "the lips tighten and narrow"),
    "au24": ("lip pressor", "the lips are pressed together"),
    "au25": ("lips part", "the lips are apart"),
    "au26": ("jaw drop", "the jaw drops open"),
}
AU_COLUMNS: tuple[str, ...] = tuple(ACTION_UNITS)
NUM_ACTION_UNITS = len(AU_COLUMNS)

# The action units that make up each expression's prototype (EMFACS; Ekman, Friesen & Hager 2002),
# in order of how much they say: the evidence shown beside a named expression, and a source of
# training labels where the landmark teacher is blind (training/au_labels.py).
EXPRESSION_AUS: dict[str, tuple[str, ...]] = {
    "neutral": (),
    "happy": ("au12", "au06", "au25"),
    "sad": ("au15", "au01", "au04", "au17"),
    "surprise": ("au01", "au02", "au05", "au26", "au25"),
    "fear": ("au01", "au02", "au04", "au05", "au20", "au26"),
    "disgust": ("au09", "au10", "au15", "au17"),
    "anger": ("au04", "au07", "au23", "au24", "au05"),
    "contempt": ("au14", "au12"),
}


def au_number(column: str) -> int:
    """The FACS number of an AU column (`au06` → 6)."""
    return int(column.removeprefix("au"))
