"""Xinren (信任): trust infrastructure for live-stream and social commerce."""

__version__ = "0.1.0"
