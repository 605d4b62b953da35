"""Face crop and model-input preparation, shared by the live app and by training.

Training crops and live crops must frame faces alike, so both go through `crop_face`
(detector box + eyes → aligned square) and `to_model_input` (grey/colour, resize, normalise).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from fer_live.model.config import ModelConfig

# FER2013 crops are ~1.17× the BlazeFace box side, centred ~2 % of the crop side above the box
# centre (measured on 300 FERPlus test faces with the full-range detector); matching that
# framing lets a model trained on FERPlus see live crops the way it saw its training data.
CROP_SCALE = 1.17
CROP_SHIFT_UP = 0.02


def eye_angle(left_eye: tuple[float, float], right_eye: tuple[float, float]) -> float:
    """In-plane head roll in radians: the angle of the line from the image-left eye to the other."""
    return math.atan2(right_eye[1] - left_eye[1], right_eye[0] - left_eye[0])


def crop_face(
    frame: np.ndarray,
    box: tuple[float, float, float, float],
    angle: float = 0.0,
    size: int = 48,
    scale: float = CROP_SCALE,
    shift_up: float = CROP_SHIFT_UP,
) -> np.ndarray:
    """Cut a `size`×`size` crop around `box` (x, y, w, h in pixels), rotated by -`angle`.

    The crop is upright in the face's own frame (eyes level); pixels outside the frame repeat
    the border so a face at the edge does not get a black bar the model never saw in training.
    """
    x, y, w, h = box
    side = scale * max(w, h)
    cos_a, sin_a = math.cos(angle), math.sin(angle)
    # "Up" in the face's frame is (sin a, -cos a) in image coordinates.
    centre_x = x + w / 2 + shift_up * side * sin_a
    centre_y = y + h / 2 - shift_up * side * cos_a
    step = side / size
    # Maps output pixel centres (u, v) to source coordinates: rotate, scale, translate.
    offset = (size - 1) / 2
    matrix = np.array(
        [
            [step * cos_a, -step * sin_a, centre_x - step * (cos_a * offset - sin_a * offset)],
            [step * sin_a, step * cos_a, centre_y - step * (sin_a * offset + cos_a * offset)],
        ],
        dtype=np.float64,
    )
    interpolation = cv2.INTER_AREA if step > 1.5 else cv2.INTER_LINEAR
    return cv2.warpAffine(
        frame,
        matrix,
        (size, size),
        flags=interpolation | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )


def to_channels(image: np.ndarray, grey: bool) -> np.ndarray:
    """BGR or grey uint8 image → H×W (grey) or H×W×3 BGR uint8, as the model expects."""
    if grey:
        return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image


def fit_crop(image: np.ndarray, config: ModelConfig) -> np.ndarray:
    """An already-cropped face (e.g. a FERPlus image) → the model's size and channels, uint8."""
    image = to_channels(image, config.grey)
    if image.shape[0] != config.input_size or image.shape[1] != config.input_size:
        shrinking = image.shape[0] > config.input_size
        image = cv2.resize(
            image,
            (config.input_size, config.input_size),
            interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR,
        )
    return image


def equalize(image: np.ndarray) -> np.ndarray:
    """Histogram-equalised uint8 crop: grey as is, BGR through its luma (colours kept)."""
    if image.ndim == 2:
        return cv2.equalizeHist(image)
    ycrcb = cv2.cvtColor(image, cv2.COLOR_BGR2YCrCb)
    ycrcb[..., 0] = cv2.equalizeHist(ycrcb[..., 0])
    return cv2.cvtColor(ycrcb, cv2.COLOR_YCrCb2BGR)


def to_model_input(crops: list[np.ndarray] | np.ndarray, config: ModelConfig) -> np.ndarray:
    """uint8 crops of the model's size → float32 N×C×H×W, (equalised and) normalised as in training."""
    crops = [to_channels(c, config.grey) for c in crops]
    if config.equalize:
        crops = [equalize(c) for c in crops]
    batch = np.stack(crops).astype(np.float32) / 255.0
    if batch.ndim == 3:
        batch = batch[:, None]
    else:
        batch = batch.transpose(0, 3, 1, 2)
    mean = np.asarray(config.mean, dtype=np.float32).reshape(1, -1, 1, 1)
    std = np.asarray(config.std, dtype=np.float32).reshape(1, -1, 1, 1)
    return (batch - mean) / std
