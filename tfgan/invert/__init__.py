"""GAN inversion: `python -m tfgan.invert` finds the W+ latent of an image under a
stylegan2 run's generator (`projector.project`, StyleGAN2-ADA's projector), so
that a real image can be edited (`tfgan.drag --latent`).

Nothing is imported here, so that the command checks its arguments before
TensorFlow loads.
"""
