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
import math
from typing import Literal, Optional

from tfgan.evaluate import parse_network


def _check_rate(key, rate, fail):
    if not 0.0 <= rate < 1.0:
        fail(key, "a rate in [0, 1)", rate)


@dataclasses.dataclass
class MLPOptions:
    g_hidden: list[int] = dataclasses.field(default_factory=lambda: [256, 512, 1024])  # G's hidden layer widths
    d_hidden: list[int] = dataclasses.field(default_factory=lambda: [1024, 512, 256])  # D's hidden layer widths
    activation: str = "relu"  # hidden activation (any Keras activation name)
    d_dropout: float = 0.0  # dropout after each of D's hidden layers in training (the original GAN's D had it)

    def validate(self, config, fail):
        for key in ("g_hidden", "d_hidden"):
            units = getattr(self, key)
            if not units or any(u <= 0 for u in units):
                fail(f"model.mlp.{key}", "a non-empty list of positive integers", units)
        _check_rate("model.mlp.d_dropout", self.d_dropout, fail)


@dataclasses.dataclass
class DCGANOptions:
    filters: int = 64  # D's first conv width (doubling per stage); G mirrors it
    g_filters: Optional[int] = None  # G's own width where it differs from D's (its last hidden map's)
    g_base_kernel: int = 0  # a stride-1 convolution of this odd size on G's base map before upsampling (0: none)
    d_norm: Literal["batch", "layer", "none"] = "batch"  # D's normalization (penalties need layer or none)
    d_dropout: float = 0.0  # dropout after each of D's convolutions in training (the keras.io DCGAN's 0.3)

    def validate(self, config, fail):
        if self.filters <= 0:
            fail("model.dcgan.filters", "a positive integer", self.filters)
        if self.g_filters is not None and self.g_filters <= 0:
            fail("model.dcgan.g_filters", "a positive integer, or null for model.dcgan.filters", self.g_filters)
        if self.g_base_kernel < 0 or (self.g_base_kernel and self.g_base_kernel % 2 == 0):
            fail("model.dcgan.g_base_kernel", "0 (none) or an odd kernel size such as 3 or 5", self.g_base_kernel)
        _check_rate("model.dcgan.d_dropout", self.d_dropout, fail)
        if (config.loss.gradient_penalty or config.loss.r1_gamma) and self.d_norm == "batch":
            fail("model.dcgan.d_norm", "layer or none with a gradient penalty (batch norm mixes the samples whose gradients it takes)", "batch")


@dataclasses.dataclass
class PGGANOptions:
    fmap_base: int = 8192  # feature maps at stage s (resolution 2^(s+1)): min(fmap_base / 2^s, fmap_max)
    fmap_max: int = 512  # (the paper's 8192 and 512: 512 maps up to 32x32, 16 at 1024x1024)
    mbstd_group: int = 4  # D's minibatch standard deviation over groups of this many (0: the whole minibatch, as the paper; 1: off)

    def validate(self, config, fail):
        for key in ("fmap_base", "fmap_max"):
            if getattr(self, key) <= 0:
                fail(f"model.pggan.{key}", "a positive integer", getattr(self, key))
        if self.mbstd_group < 0:
            fail("model.pggan.mbstd_group", "a group size >= 0 (0: the whole minibatch; 1: off)", self.mbstd_group)
        phases = config.train.phases
        if not phases:
            fail("train.phases", "a list of phases with resolutions (4x4 upward) for model.network pggan", phases)
        if phases[0].resolution is None or phases[0].resolution < 4:
            fail("train.phases[0].resolution", "a power of two >= 4 for model.network pggan", phases[0].resolution)
        if self.fmap_base < phases[-1].resolution // 2:  # the last stage, log2(r) - 1, needs a map
            fail("model.pggan.fmap_base", f"at least {phases[-1].resolution // 2} for {phases[-1].resolution}x{phases[-1].resolution}", self.fmap_base)
        for i, phase in enumerate(phases):
            batch = phase.batch_size or config.train.batch_size
            if self.mbstd_group and batch % min(self.mbstd_group, batch):
                key = f"train.phases[{i}].batch_size" if phase.batch_size else "train.batch_size"
                fail(key, f"a multiple of model.pggan.mbstd_group ({self.mbstd_group}): D takes the minibatch's standard deviation in groups", batch)
        for key in ("conditional", "spectral_norm"):
            if getattr(config.model, key):
                fail(f"model.{key}", "false for model.network pggan", True)
        if config.model.pack != 1:
            fail("model.pack", "1 for model.network pggan (D has its own minibatch statistics)", config.model.pack)

    def batch_multiple(self):
        """Each replica's share of a batch is split into minibatch-stddev groups (of at most the share)."""
        return self.mbstd_group or 1


@dataclasses.dataclass
class StyleGAN2Options:
    w_dim: int = 512  # size of w (and of each entry of ws)
    mapping_layers: int = 8  # the mapping MLP's depth (the paper's 8; StyleGAN2-ADA uses 2 for small data)
    channel_base: int = 16384  # feature maps at resolution r: min(channel_base / r, channel_max)
    channel_max: int = 512
    style_mixing: float = 0.9  # probability that a training batch mixes the styles of two z
    pl_weight: float = 2.0  # path-length penalty weight (0: off)
    pl_every: int = 4  # lazy: computed every N G updates, scaled by N
    pl_decay: float = 0.01  # of the path lengths' running mean
    pl_batch_shrink: int = 2  # the penalty is computed on 1/N of the batch
    mbstd_group: int = 4  # D's minibatch standard deviation over groups of this many (1: off)
    mbstd_channels: int = 1  # ... as this many statistics, each over a slice of D's 4x4 maps (StyleGAN2-ADA's mbstd_num_channels)

    def validate(self, config, fail):
        for key in ("w_dim", "mapping_layers", "channel_base", "channel_max", "pl_every", "pl_batch_shrink", "mbstd_group", "mbstd_channels"):
            if getattr(self, key) <= 0:
                fail(f"model.stylegan2.{key}", "a positive integer", getattr(self, key))
        # D's maps at 4x4, which the statistics split: networks.stylegan2.channel_counts' rule, written
        # out here because config checks run before TensorFlow is imported.
        maps = min(self.channel_base // 4, self.channel_max)
        if maps % self.mbstd_channels:
            fail("model.stylegan2.mbstd_channels", f"a divisor of D's {maps} maps at 4x4", self.mbstd_channels)
        if not 0.0 <= self.style_mixing <= 1.0:
            fail("model.stylegan2.style_mixing", "a probability in [0, 1]", self.style_mixing)
        if self.pl_weight < 0:
            fail("model.stylegan2.pl_weight", "a weight >= 0 (0: off)", self.pl_weight)
        if not 0.0 < self.pl_decay <= 1.0:
            fail("model.stylegan2.pl_decay", "a number in (0, 1]", self.pl_decay)
        if config.train.phases:
            fail("train.phases", "[] for model.network stylegan2 (it trains at one resolution)", "a phase list")
        for key in ("spectral_norm",):
            if getattr(config.model, key):
                fail(f"model.{key}", "false for model.network stylegan2", True)
        if config.model.pack != 1:
            fail("model.pack", "1 for model.network stylegan2 (D has its own minibatch statistics)", config.model.pack)

    def batch_multiple(self):
        """Each replica's share is split into minibatch-stddev groups and path-length subsamples."""
        return math.lcm(self.mbstd_group, self.pl_batch_shrink if self.pl_weight else 1)


@dataclasses.dataclass
class VQGANOptions:
    """VQGAN's stage 1 (`tfgan.networks.vqgan`): the autoencoder, its codebook, the patch D and the loss weights."""

    channels: int = 64  # the autoencoder's first width; level i has channels * channel_mult[i]
    channel_mult: list[int] = dataclasses.field(default_factory=lambda: [1, 2, 2])  # downsampling factor 2^(len - 1)
    num_res_blocks: int = 1  # residual blocks a level (the decoder has one more)
    num_codes: int = 512  # codebook size
    code_dim: int = 64  # each code's dimension
    beta: float = 0.25  # the commitment term's weight
    ema_decay: Optional[float] = None  # codes as moving averages of their encoder outputs (0.99), not trained by gradient
    normalize_codes: bool = False  # compare l2-normalized vectors and codes (cosine)
    restart_after: int = 0  # codes unused this many steps in a row restart from encoder outputs (0: never)
    d_filters: int = 64  # the patch D's first width
    d_layers: int = 3  # the patch D's stride-2 convolutions: a logit per 2^d_layers-pixel patch
    rec_weight: float = 1.0  # the L1 reconstruction term's
    perceptual: Optional[str] = None  # the perceptual term's features: classifier:PATH or vgg16 (tfgan.perceptual); null: none
    perceptual_weight: float = 1.0  # its weight
    disc_weight: float = 0.8  # on the adaptively weighted adversarial term (taming-transformers' default)
    disc_start: int = 0  # G's adversarial term is 0 before this step (D trains from the start)
    adaptive_weight: bool = True  # |grad rec| / (|grad adv| + 1e-4) at the decoder's last layer, times disc_weight

    def validate(self, config, fail):
        for key in ("channels", "num_res_blocks", "code_dim", "d_filters", "d_layers"):
            if getattr(self, key) <= 0:
                fail(f"model.vqgan.{key}", "a positive integer", getattr(self, key))
        if self.num_codes < 2:
            fail("model.vqgan.num_codes", "at least 2 codes", self.num_codes)
        if not self.channel_mult or any(m <= 0 for m in self.channel_mult):
            fail("model.vqgan.channel_mult", "a non-empty list of positive integers", self.channel_mult)
        if self.perceptual is not None and not parse_network(self.perceptual, ("vgg16",)):
            fail("model.vqgan.perceptual", "classifier:PATH, vgg16 or null", self.perceptual)
        for key in ("beta", "rec_weight", "disc_weight", "perceptual_weight"):
            if getattr(self, key) < 0:
                fail(f"model.vqgan.{key}", "a weight >= 0", getattr(self, key))
        for key in ("disc_start", "restart_after"):
            if getattr(self, key) < 0:
                fail(f"model.vqgan.{key}", "a step count >= 0", getattr(self, key))
        if self.ema_decay is not None and not 0.0 < self.ema_decay < 1.0:
            fail("model.vqgan.ema_decay", "null (codes trained by gradient) or a decay in (0, 1) such as 0.99", self.ema_decay)
        if config.model.conditional:
            fail("model.conditional", "false for model.network vqgan (stage 1 reconstructs images; the prior takes classes)", True)
        if config.train.phases:
            fail("train.phases", "[] for model.network vqgan", "a phase list")
        if config.model.spectral_norm:
            fail("model.spectral_norm", "false for model.network vqgan", True)
        if config.model.pack != 1:
            fail("model.pack", "1 for model.network vqgan (its patch D judges one image at a time)", config.model.pack)
        if config.eval.every:
            fail("eval.every", "0 for model.network vqgan (scoring reconstructions is not built yet)", config.eval.every)


SAMPLING_EXPECTED = {"temperature": "a number > 0", "top_k": "a whole number >= 0 (0: all codes)", "top_p": "a number in (0, 1] (1: all codes)"}


def bad_sampling(temperature=1.0, top_k=0, top_p=1.0):
    """The names of the sampling settings out of range (SAMPLING_EXPECTED says what each must be)."""
    good = {"temperature": temperature > 0, "top_k": top_k >= 0 and int(top_k) == top_k, "top_p": 0.0 < top_p <= 1.0}
    return [key for key, ok in good.items() if not ok]


@dataclasses.dataclass
class VQGANPriorOptions:
    """VQGAN's stage 2 (`tfgan.prior`): a GPT over the code grids of a trained vqgan run, and how it samples."""

    autoencoder: str = ""  # the run directory of the stage-1 run (model.network: vqgan) whose codes it models
    layers: int = 8  # transformer blocks
    heads: int = 8  # attention heads a block
    dim: int = 256  # the width (a multiple of heads)
    temperature: float = 1.0  # sampling: logits divided by this
    top_k: int = 0  # sampling: only the k most likely codes (0: all)
    top_p: float = 1.0  # sampling: only the most likely codes that make up this much probability (1: all)

    def validate(self, config, fail):
        if not self.autoencoder:
            fail("model.vqgan_prior.autoencoder", "the run directory of a trained model.network: vqgan run", self.autoencoder)
        for key in ("layers", "heads", "dim"):
            if getattr(self, key) <= 0:
                fail(f"model.vqgan_prior.{key}", "a positive integer", getattr(self, key))
        if self.dim % self.heads:
            fail("model.vqgan_prior.dim", f"a multiple of model.vqgan_prior.heads ({self.heads})", self.dim)
        for key in bad_sampling(self.temperature, self.top_k, self.top_p):
            fail(f"model.vqgan_prior.{key}", SAMPLING_EXPECTED[key], getattr(self, key))
        # What only a GAN's step reads.
        gan_only = {"train.phases": (config.train.phases, []), "train.d_steps": (config.train.d_steps, 1),
                    "train.diff_augment": (config.train.diff_augment, []), "train.ema_decay": (config.train.ema_decay, 0.0),
                    "train.ema_kimg": (config.train.ema_kimg, 0.0), "loss.gradient_penalty": (config.loss.gradient_penalty, 0.0),
                    "loss.r1_gamma": (config.loss.r1_gamma, 0.0), "model.pack": (config.model.pack, 1)}
        for key, (value, off) in gan_only.items():
            if value != off:
                fail(key, f"{off!r} for model.network vqgan_prior (a transformer trained on cross-entropy, not a GAN)", value)


@dataclasses.dataclass(frozen=True)
class Architecture:
    options: type  # the dataclass of its `model.<network>:` section
    builder: str  # "module:function"; function(config, examples, d_shape) -> (generator, discriminator) of a GAN
    images_only: bool  # refuses 2D points
    xla_on_cpu: bool  # `train.jit_compile: auto` turns XLA on without a GPU (benchmarks/speed.py measures it)
    hook_builder: str = ""  # "module:function"; function(config) -> the hooks the architecture trains with
    # "module:function"; function(config, examples, strategy) -> (the compiled tfgan.trainee.Trainee, the
    # examples it trains on), for a model that is not a GAN of `builder`'s networks ("": it is one)
    trainer: str = ""

    def build(self, *args, **kwargs):
        return _function(self.builder)(*args, **kwargs)

    def hooks(self, config):
        return _function(self.hook_builder)(config) if self.hook_builder else []

    def train(self, *args):
        return _function(self.trainer)(*args)


def _function(path):
    module, function = path.split(":")
    return getattr(importlib.import_module(module), function)


ARCHITECTURES = {
    "mlp": Architecture(MLPOptions, "tfgan.networks.mlp:build", images_only=False, xla_on_cpu=True),
    "dcgan": Architecture(DCGANOptions, "tfgan.networks.dcgan:build", images_only=True, xla_on_cpu=False),
    "pggan": Architecture(
        PGGANOptions, "tfgan.networks.pggan:build", images_only=True, xla_on_cpu=False,
        hook_builder="tfgan.networks.pggan:hooks",
    ),
    "stylegan2": Architecture(
        StyleGAN2Options, "tfgan.networks.stylegan2:build", images_only=True, xla_on_cpu=False,
        hook_builder="tfgan.networks.stylegan2:hooks",
    ),
    "vqgan": Architecture(
        VQGANOptions, "tfgan.networks.vqgan:build", images_only=True, xla_on_cpu=False,
        hook_builder="tfgan.networks.vqgan:hooks",
    ),
    "vqgan_prior": Architecture(VQGANPriorOptions, "", images_only=True, xla_on_cpu=False, trainer="tfgan.prior:build_trainee"),
}
NAMES = tuple(ARCHITECTURES)


def get(name):
    if name not in ARCHITECTURES:
        raise ValueError(f"Unknown network {name!r}. Expected one of: {', '.join(NAMES)}.")
    return ARCHITECTURES[name]
