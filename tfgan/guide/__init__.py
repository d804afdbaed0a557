"""Guided generation (VQGAN+CLIP, Crowson et al. 2022): steer a VQGAN's image toward what a scorer rates highly.

- `scorers.py`: differentiable scorers, images -> a score per image: a classifier's
  log-probability of a target class (tfgan's own, offline), or a CLIP's cosine
  similarity to a prompt (a KerasHub CLIP from a local preset directory);
- `optimize.py`: the optimization of the continuous latent grid before quantization;
- `python -m tfgan.guide` (see `__main__.py`).

This module imports no TensorFlow, so that `python -m tfgan.guide --help` is instant.
"""
