"""The `.fer` accessor of a results DataFrame: its column groups, a per-face summary and a timeline plot.

>>> df = Detector().detect_video("clip.mp4")
>>> df.fer.expressions        # p_neutral … p_contempt
>>> df.fer.summary()          # one row per face: frames seen, mean and peak, share of time per label
>>> df.fer.plot(face_id=1)    # a matplotlib figure: expressions, valence/arousal, AUs over time
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fer_live.labels import EXPRESSIONS
from fer_live.results import AU_COLUMNS, GEOMETRY_COLUMNS, PROB_COLUMNS

VA_COLUMNS = ("valence", "arousal")


@pd.api.extensions.register_dataframe_accessor("fer")
class ResultsAccessor:
    """Column groups and summaries of a DataFrame with the results CSV's columns."""

    def __init__(self, df: pd.DataFrame):
        missing = [c for c in ("frame", "time_s", "face_id", *PROB_COLUMNS) if c not in df.columns]
        if missing:
            raise AttributeError(f"not a fer_live results DataFrame (no {', '.join(missing[:3])} column)")
        self._df = df

    @property
    def expressions(self) -> pd.DataFrame:
        """The 8 expression probabilities (p_neutral … p_contempt)."""
        return self._df[list(PROB_COLUMNS)]

    @property
    def valence_arousal(self) -> pd.DataFrame:
        return self._df[list(VA_COLUMNS)]

    @property
    def geometry(self) -> pd.DataFrame:
        """Head pose, eyes, gaze and mouth (NaN without geometry)."""
        return self._df[[c for c in GEOMETRY_COLUMNS if c in self._df.columns]]

    @property
    def action_units(self) -> pd.DataFrame:
        """FACS action unit intensities au01 … au26 (NaN with weights that read none)."""
        return self._df[[c for c in AU_COLUMNS if c in self._df.columns]]

    @property
    def faces(self) -> pd.DataFrame:
        """The rows with a face (a face-less frame's row has no face_id)."""
        return self._df[self._df["face_id"].notna()]

    def summary(self) -> pd.DataFrame:
        """Per face: frames seen, first and last time, mean and peak of each probability, V/A and AU,
        and the share of its frames each expression was the label.

        >>> df.fer.summary().loc[1, ["frames", "mean_valence", "share_happy"]]
        """
        faces = self.faces
        numbers = [c for c in (*PROB_COLUMNS, *VA_COLUMNS, *AU_COLUMNS) if c in faces.columns]
        grouped = faces.groupby(faces["face_id"].astype("int64"))
        table = pd.DataFrame(
            {"frames": grouped.size(), "first_s": grouped["time_s"].min(), "last_s": grouped["time_s"].max()}
        )
        table = table.join(grouped[numbers].mean().add_prefix("mean_"))
        table = table.join(grouped[numbers].max().add_prefix("peak_"))
        shares = pd.crosstab(faces["face_id"].astype("int64"), faces["label"].astype(str), normalize="index")
        table = table.join(shares.reindex(columns=list(EXPRESSIONS), fill_value=0.0).add_prefix("share_"))
        table.index.name = "face_id"
        return table

    def plot(self, face_id: int | None = None):
        """A matplotlib figure of one face over time (default: the face seen longest): expression
        probabilities, valence and arousal, and action units when there are any."""
        import matplotlib.pyplot as plt

        from fer_live.labels import COLOURS

        faces = self.faces
        if faces.empty:
            raise ValueError("no face in these results: nothing to plot")
        if face_id is None:
            face_id = int(faces["face_id"].value_counts().idxmax())
        face = faces[faces["face_id"] == face_id]
        if face.empty:
            raise ValueError(
                f"no face {face_id} in these results (faces: {sorted(faces['face_id'].astype(int).unique())})"
            )
        units = [c for c in AU_COLUMNS if c in face.columns and face[c].notna().any()]
        rows = 3 if units else 2
        fig, axes = plt.subplots(rows, 1, figsize=(10, 2.6 * rows), sharex=True, squeeze=True)
        for column, name in zip(PROB_COLUMNS, EXPRESSIONS, strict=True):
            axes[0].plot(face["time_s"], face[column], color=COLOURS[name], label=name, linewidth=1)
        axes[0].set(ylabel="probability", ylim=(0, 1), title=f"face {face_id}")
        axes[0].legend(loc="upper right", ncol=4, fontsize="small")
        for column in VA_COLUMNS:
            axes[1].plot(face["time_s"], face[column], label=column, linewidth=1)
        axes[1].set(ylabel="[-1, 1]", ylim=(-1, 1))
        axes[1].legend(loc="upper right", fontsize="small")
        if units:
            # One cell per frame of the results, empty where the face was away: aligned with the rows above.
            frames = self._df.drop_duplicates("frame").set_index("frame")["time_s"]
            frames = frames.loc[face["frame"].min() : face["frame"].max()]
            values = face.set_index("frame")[units].reindex(frames.index).to_numpy().T
            times = frames.to_numpy()
            step = float(np.median(np.diff(times))) if len(times) > 1 else 1 / 30
            edges = np.append(times, times[-1] + step)
            image = axes[2].pcolormesh(
                edges, np.arange(len(units) + 1) - 0.5, np.ma.masked_invalid(values), vmin=0, vmax=1, cmap="viridis"
            )
            axes[2].set_yticks(range(len(units)), [c.upper() for c in units], fontsize="x-small")
            axes[2].invert_yaxis()
            fig.colorbar(image, ax=axes[2], label="AU intensity")
        axes[-1].set_xlabel("time (s)")
        fig.tight_layout()
        return fig
