"""The live window (PySide6 + pyqtgraph): the only package of fer_live that imports Qt."""
