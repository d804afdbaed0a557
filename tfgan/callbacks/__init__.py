"""Keras callbacks that act between epochs (TensorBoard logging, checkpoints, tick lines, the divergence guard) and between steps (signals)."""

from tfgan.callbacks.checkpoint import CheckpointCallback, Checkpoints
from tfgan.callbacks.divergence import DivergenceGuard
from tfgan.callbacks.progress import ProgressLogger
from tfgan.callbacks.tensorboard import TensorBoardLogger

__all__ = ["CheckpointCallback", "Checkpoints", "DivergenceGuard", "ProgressLogger", "TensorBoardLogger"]
