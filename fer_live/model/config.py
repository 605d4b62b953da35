"""Everything needed to rebuild a model and feed it: stored inside every weights file."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from fer_live.labels import EXPRESSIONS


@dataclass(frozen=True)
class ModelConfig:
    widths: tuple[int, ...] = (32, 64, 128, 256)
    blocks: tuple[int, ...] = (2, 2, 2, 2)
    se_reduction: int = 8
    trunk_dim: int = 256
    dropout: float = 0.3
    input_size: int = 48
    grey: bool = True
    # Histogram-equalise each crop (grey, or the luma of a colour crop) before normalising, at
    # training and inference alike (fer_live.preprocess.to_model_input): lighting-invariant input.
    equalize: bool = False
    # Pixel normalisation after scaling to [0, 1]; one value per input channel.
    mean: tuple[float, ...] = (0.5,)
    std: tuple[float, ...] = (0.25,)
    classes: tuple[str, ...] = EXPRESSIONS
    # FACS action unit columns of the AU head (fer_live.labels.AU_COLUMNS); none before v6.
    action_units: tuple[str, ...] = ()
    # sha256 over the training labels files, so a weights file names the data it came from.
    data_hash: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def in_channels(self) -> int:
        return 1 if self.grey else 3

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> ModelConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown model config keys: {sorted(unknown)}")
        tuple_keys = {"widths", "blocks", "mean", "std", "classes", "action_units"}
        return cls(**{k: tuple(v) if k in tuple_keys else v for k, v in values.items()})
