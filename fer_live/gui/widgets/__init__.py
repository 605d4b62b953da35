"""pyqtgraph widgets of the live window: emotion bars, circumplex, valence/arousal timeline."""
