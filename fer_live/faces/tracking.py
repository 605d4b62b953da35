"""Persistent face IDs across frames: greedy association by box overlap, then by centre distance."""

from __future__ import annotations

from dataclasses import dataclass

from fer_live.faces.detection import Detection


def iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    inter_w = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    inter_h = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = inter_w * inter_h
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def centre_distance(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Distance between box centres in units of the mean box side."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    dx = (ax + aw / 2) - (bx + bw / 2)
    dy = (ay + ah / 2) - (by + bh / 2)
    side = (aw + ah + bw + bh) / 4
    return (dx * dx + dy * dy) ** 0.5 / max(side, 1e-6)


@dataclass
class Track:
    face_id: int
    box: tuple[float, float, float, float]
    missed: int = 0


class FaceTracker:
    """Gives each detection the ID of the track it continues, or a new ID.

    A track survives `max_missed` frames without a detection (blinks, brief occlusion, a missed
    detection) before its ID is retired; IDs are never reused.
    """

    def __init__(self, max_missed: int = 10, min_iou: float = 0.2, max_centre_distance: float = 0.75):
        self.max_missed = max_missed
        self.min_iou = min_iou
        self.max_centre_distance = max_centre_distance
        self.tracks: list[Track] = []
        self._next_id = 1

    def update(self, detections: list[Detection]) -> list[int]:
        """IDs for `detections`, in their order."""
        pairs = []
        for t, track in enumerate(self.tracks):
            for d, det in enumerate(detections):
                overlap = iou(track.box, det.box)
                distance = centre_distance(track.box, det.box)
                if overlap >= self.min_iou or distance <= self.max_centre_distance:
                    # Overlap first; centre distance breaks ties and catches fast moves with no overlap.
                    pairs.append((-overlap, distance, t, d))
        pairs.sort()
        ids: list[int | None] = [None] * len(detections)
        used_tracks = set()
        for _, _, t, d in pairs:
            if t in used_tracks or ids[d] is not None:
                continue
            used_tracks.add(t)
            ids[d] = self.tracks[t].face_id
            self.tracks[t].box = detections[d].box
            self.tracks[t].missed = 0
        for t, track in enumerate(self.tracks):
            if t not in used_tracks:
                track.missed += 1
        self.tracks = [t for t in self.tracks if t.missed <= self.max_missed]
        for d, det in enumerate(detections):
            if ids[d] is None:
                ids[d] = self._next_id
                self.tracks.append(Track(self._next_id, det.box))
                self._next_id += 1
        return [int(i) for i in ids]  # type: ignore[arg-type]

    def reset(self, restart_ids: bool = False) -> None:
        """Forget all tracks: after a seek new IDs continue from the last one; with `restart_ids`
        (a file that loops or is opened again) they start at 1 again."""
        self.tracks = []
        if restart_ids:
            self._next_id = 1
