"""Sample-quality metrics."""

from tfgan.metrics.modes import ModeReport, mode_report

__all__ = ["ModeReport", "mode_report"]
