"""Action unit training labels: MediaPipe blendshape scores mapped to FACS AUs, with the expression
labels' EMFACS prototypes where the landmark teacher is blind or weak.

Each AU's label is one of (AU_SOURCES says which, per AU):
- teacher: clip((score − rest) / span, 0, 1) of its blendshapes (left and right averaged), where
  rest ≈ the median and rest + span ≈ the 99th percentile of the teacher's scores over FERPlus and
  DiffusionFER (measured once, 2026-12-07, frozen here so the labels do not move with the data);
- teacher + prototype: the larger of that and PROTOTYPE_STRENGTH × the expression probability mass
  of the classes whose EMFACS prototype holds the AU (fer_live.labels.EXPRESSION_AUS);
- prototype: the teacher never scores it (its cheekSquint and noseSneer outputs are 0 on every
  image): AU6 = P(happy) × the AU12 label (cheeks rise with a full smile), AU9 = 0.8 × P(disgust)
  (PROTOTYPE_ONLY_STRENGTH: with nothing else to go on, a face most voters call disgusted is labelled
  as showing it).
Lips part (AU25) reads the inner-lip gap over mouth width from the teacher's mesh: no blendshape
measures it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fer_live.labels import AU_COLUMNS, EXPRESSION_AUS, EXPRESSIONS, INDEX
from training.au_teacher import label_folder, read_teacher

# AU column → (teacher blendshapes averaged, rest level, span); "lip_gap" is the mesh's lip gap.
TEACHER_SCALES: dict[str, tuple[tuple[str, ...], float, float]] = {
    "au01": (("browInnerUp",), 0.07, 0.88),
    "au02": (("browOuterUpLeft", "browOuterUpRight"), 0.15, 0.78),
    "au04": (("browDownLeft", "browDownRight"), 0.02, 0.71),
    "au05": (("eyeWideLeft", "eyeWideRight"), 0.01, 0.32),
    "au07": (("eyeSquintLeft", "eyeSquintRight"), 0.28, 0.44),
    "au10": (("mouthUpperUpLeft", "mouthUpperUpRight"), 0.0, 0.79),
    "au12": (("mouthSmileLeft", "mouthSmileRight"), 0.0, 0.9),
    "au14": (("mouthDimpleLeft", "mouthDimpleRight"), 0.01, 0.16),
    "au15": (("mouthFrownLeft", "mouthFrownRight"), 0.0, 0.4),
    "au17": (("mouthShrugLower",), 0.01, 0.55),
    "au20": (("mouthStretchLeft", "mouthStretchRight"), 0.01, 0.55),
    "au23": (("mouthRollLower", "mouthRollUpper"), 0.01, 0.38),
    "au24": (("mouthPressLeft", "mouthPressRight"), 0.02, 0.31),
    # An inner-lip gap of 0.08 of the mouth's width reads as closed lips on 48 px faces (mesh noise).
    "au25": (("lip_gap",), 0.08, 0.25),
    "au26": (("jawOpen",), 0.02, 0.66),
}
# Where each AU's label comes from (stored in the weights' meta, shown in the model card).
AU_SOURCES: dict[str, str] = {
    **{au: "teacher + prototype" for au in TEACHER_SCALES},
    "au12": "teacher",
    "au25": "teacher (mesh lip gap)",
    "au26": "teacher",
    "au06": "prototype (happy) × AU12",
    "au09": "prototype (disgust)",
}
# A prototype's AUs at this intensity when every vote names the expression (moderate, FACS "C").
PROTOTYPE_STRENGTH = 0.6
PROTOTYPE_ONLY_STRENGTH = 0.8


def teacher_outputs(data_path: str | Path, teacher_path: str | None, cache_dir: str | Path) -> dict[str, dict]:
    """The teacher's cached outputs for a data folder (run now when not cached), by image file."""
    if not teacher_path:
        raise ValueError(
            "action units need their label teacher: --au-teacher PATH/face_landmarker.task "
            "(MediaPipe's FaceLandmarker bundle; see the model card)"
        )
    teacher = Path(teacher_path).expanduser()
    if not teacher.is_file():
        raise FileNotFoundError(f"AU teacher not found: {teacher}")
    return read_teacher(label_folder(Path(data_path), teacher, Path(cache_dir).expanduser()))


def _prototype_mass(targets: np.ndarray) -> dict[str, np.ndarray]:
    """AU column → probability mass of the expressions whose prototype holds it (0 without a label)."""
    probs = np.nan_to_num(targets)
    return {
        au: sum((probs[:, INDEX[name]] for name in EXPRESSIONS if au in EXPRESSION_AUS[name]), np.zeros(len(probs)))
        for au in AU_COLUMNS
    }


def au_targets(outputs: list[dict | None], expression_targets: np.ndarray) -> np.ndarray:
    """N×A labels in [0, 1] for rows with the teacher's outputs (NaN rows where it found no face)."""
    labels = np.full((len(outputs), len(AU_COLUMNS)), np.nan, dtype=np.float32)
    found = np.array([o is not None for o in outputs])
    if not found.any():
        return labels
    kept = [o for o in outputs if o is not None]
    scores = {name: np.array([o["blendshapes"][name] for o in kept]) for name in kept[0]["blendshapes"]}
    scores["lip_gap"] = np.array([o["lip_gap"] for o in kept])
    mass = _prototype_mass(expression_targets[found])
    column = {}
    for au, (names, rest, span) in TEACHER_SCALES.items():
        teacher = np.clip((np.mean([scores[n] for n in names], axis=0) - rest) / span, 0, 1)
        column[au] = np.maximum(teacher, PROTOTYPE_STRENGTH * mass[au]) if "prototype" in AU_SOURCES[au] else teacher
    # Only the expression label speaks for AU6 and AU9: without one they are unknown, not absent.
    unlabelled = np.isnan(expression_targets[found]).any(axis=1)
    happy = np.nan_to_num(expression_targets[found][:, INDEX["happy"]])
    column["au06"] = np.where(unlabelled, np.nan, happy * column["au12"])
    column["au09"] = np.where(unlabelled, np.nan, PROTOTYPE_ONLY_STRENGTH * mass["au09"])
    labels[found] = np.stack([column[au] for au in AU_COLUMNS], axis=1)
    return labels


def attach_au_labels(faces, teacher: dict[str, dict] | None):
    """Set `faces.au` from the teacher's outputs for its files (a no-op without a teacher); returns it."""
    if teacher is not None:
        faces.au = au_targets([teacher.get(f) for f in faces.files], faces.targets)
    return faces


def au_agreement(predicted: np.ndarray, labels: np.ndarray) -> dict:
    """Per AU, over the faces with that AU's label, Pearson r and ROC-AUC (label > 0.5 positive;
    None with one class only), and their means."""
    from sklearn.metrics import roc_auc_score

    per_au = {}
    for i, au in enumerate(AU_COLUMNS):
        known = ~np.isnan(labels[:, i])
        truth, guess = labels[known, i], predicted[known, i]
        positive = truth > 0.5
        r = np.corrcoef(guess, truth)[0, 1] if truth.std() > 0 else np.nan
        auc = roc_auc_score(positive, guess) if 0 < positive.sum() < len(positive) else None
        per_au[au] = {"r": float(r), "auc": auc, "positives": int(positive.sum())}
    aucs = [v["auc"] for v in per_au.values() if v["auc"] is not None]
    rs = [v["r"] for v in per_au.values() if not np.isnan(v["r"])]
    return {"per_au": per_au, "mean_auc": float(np.mean(aucs)) if aucs else float("nan"), "mean_r": float(np.mean(rs))}


def au_label_sources() -> dict:
    """What the weights' meta records of the AU labels: sources per AU and the mapping's constants."""
    return {
        "teacher": "MediaPipe FaceLandmarker (face_landmarker.task, blendshapes v1), training input only",
        "sources": dict(AU_SOURCES),
        "teacher_scales": {au: {"from": list(n), "rest": r, "span": s} for au, (n, r, s) in TEACHER_SCALES.items()},
        "prototype_strength": PROTOTYPE_STRENGTH,
        "prototype_only_strength": PROTOTYPE_ONLY_STRENGTH,
        "prototypes": {name: list(aus) for name, aus in EXPRESSION_AUS.items() if aus},
    }
