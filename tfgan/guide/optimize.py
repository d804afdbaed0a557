"""The optimization of guided generation: the latent grid before quantization, moved by Adam.

VQGAN+CLIP (Crowson et al. 2022) optimizes z, the [h, w, code_dim] grid in front of
the quantizer, starting from the code vectors of a grid (an encoded image, or a
prior's sample): each step quantizes z with the straight-through gradient,
decodes it, scores the image, and takes an Adam step up the score. The decoder
only ever sees codebook entries, so the image stays one the VQGAN can draw.
"""

import keras
import tensorflow as tf


def guide(autoencoder, scorer, codes, steps=200, learning_rate=0.1, frames=0):
    """(the final code grids [B, h, w], their images, the scores [steps + 1, B] before each step
    and after the last, `frames` images [frames, B, H, W, C] along the way (the start and the end among them)).

    `codes` [B, h, w]: the start; `scorer(images) -> [B]`, higher better."""
    quantizer = autoencoder.quantizer
    z = tf.Variable(quantizer.lookup(tf.convert_to_tensor(codes, tf.int32)), name="guided_latent")
    optimizer = keras.optimizers.Adam(learning_rate)

    def images_of(latent):
        return autoencoder.decode_vectors(quantizer.straight_through(latent))

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            score = scorer(images_of(z))
            loss = -tf.reduce_sum(score)  # each image's own score: the batch's starts are independent
        optimizer.apply_gradients([(tape.gradient(loss, z), z)])
        return score

    keep = {round(i * steps / (frames - 1)) for i in range(frames)} if frames > 1 else set()
    scores, kept = [], []
    for i in range(steps):
        if i in keep:
            kept.append(images_of(z).numpy())
        scores.append(step().numpy())
    final = images_of(z)
    scores.append(scorer(final).numpy())
    if steps in keep:
        kept.append(final.numpy())
    return quantizer.indices(z).numpy(), final.numpy(), scores, kept
