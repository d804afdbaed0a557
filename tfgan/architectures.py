"""The architectures `model.network` can name, each with its own config section (a registry).

An architecture declares here its options (the `model.<network>:` section of a
config, a dataclass), where its builder lives, and what the run driver needs to
know of it. `tfgan.config` builds the section, `tfgan.training` calls the
builder; neither branches on the name, so adding an architecture means adding
an entry here and a `build` function in its module.

Imports no TensorFlow (and so lives outside `tfgan.networks`, whose modules do): the
config is checked before TensorFlow starts.
"""

import dataclasses
import importlib
from typing import Literal


@dataclasses.dataclass
class MLPOptions:
    g_hidden: list[int] = dataclasses.field(default_factory=lambda: [256, 512, 1024])  # G's hidden layer widths
    d_hidden: list[int] = dataclasses.field(default_factory=lambda: [1024, 512, 256])  # D's hidden layer widths
    activation: str = "relu"  # hidden activation (any Keras activation name)

    def validate(self, config, fail):
        for key in ("g_hidden", "d_hidden"):
            units = getattr(self, key)
            if not units or any(u <= 0 for u in units):
                fail(f"model.mlp.{key}", "a non-empty list of positive integers", units)


@dataclasses.dataclass
class DCGANOptions:
    filters: int = 64  # D's first conv width (doubling per stage); G mirrors it
    d_norm: Literal["batch", "layer", "none"] = "batch"  # D's normalization (penalties need layer or none)

    def validate(self, config, fail):
        if self.filters <= 0:
            fail("model.dcgan.filters", "a positive integer", self.filters)
        if (config.loss.gradient_penalty or config.loss.r1_gamma) and self.d_norm == "batch":
            fail("model.dcgan.d_norm", "layer or none with a gradient penalty (batch norm mixes the samples whose gradients it takes)", "batch")


@dataclasses.dataclass(frozen=True)
class Architecture:
    options: type  # the dataclass of its `model.<network>:` section
    builder: str  # "module:function"; function(config, examples, d_shape) -> (generator, discriminator)
    images_only: bool  # refuses 2D points
    xla_on_cpu: bool  # `train.jit_compile: auto` turns XLA on without a GPU (benchmarks/speed.py measures it)

    def build(self, *args, **kwargs):
        module, function = self.builder.split(":")
        return getattr(importlib.import_module(module), function)(*args, **kwargs)


ARCHITECTURES = {
    "mlp": Architecture(MLPOptions, "tfgan.networks.mlp:build", images_only=False, xla_on_cpu=True),
    "dcgan": Architecture(DCGANOptions, "tfgan.networks.dcgan:build", images_only=True, xla_on_cpu=False),
}
NAMES = tuple(ARCHITECTURES)


def get(name):
    if name not in ARCHITECTURES:
        raise ValueError(f"Unknown network {name!r}. Expected one of: {', '.join(NAMES)}.")
    return ARCHITECTURES[name]
