"""DragGAN (Pan et al. 2023, "Drag Your GAN"): move points of a StyleGAN2 image by
optimizing its W+ latent.

- `motion`: the two steps on a feature map, motion supervision and point tracking;
- `session.DragSession`: an edit run a step at a time (the CLI, the page and the tests drive it);
- `cli`: `python -m tfgan.drag`.

Nothing is imported here, so that `python -m tfgan.drag` checks its arguments
before TensorFlow loads.
"""
