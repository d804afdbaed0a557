"""Keras callbacks that act between epochs: TensorBoard logging and checkpoints."""

from tfgan.callbacks.checkpoint import CheckpointCallback, Checkpoints
from tfgan.callbacks.tensorboard import TensorBoardLogger

__all__ = ["CheckpointCallback", "Checkpoints", "TensorBoardLogger"]
