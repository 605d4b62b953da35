"""fer_live: live facial affect (8 expressions, valence, arousal) from a camera or a video file."""

__version__ = "0.1.0"
