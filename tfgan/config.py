"""The run config: YAML -> typed, validated dataclasses.

Config flows one way: YAML file -> `--set` overrides -> `Config` (types checked,
values validated) -> saved as `config.yaml` in the run directory. Nothing
downstream reads a raw dict. This module imports no TensorFlow, so a bad config
is rejected in a fraction of a second.
"""

import dataclasses
import math
import typing
from typing import Literal, Optional, Union

import yaml

from tfgan import architectures, distribute, export, metrics, schedule  # none imports TensorFlow here
from tfgan.evaluate import parse_network
from tfgan.data import mixtures, shapes
from tfgan.errors import ConfigError

DATA_SOURCES = (*mixtures.NAMES, "shapes", "tfds", "folder", "npz", "idx")
DIFF_AUGMENT_POLICIES = ("color", "translation", "cutout")  # tfgan.augment's transforms; named here, where no TensorFlow is imported


@dataclasses.dataclass
class DataConfig:
    source: Literal[DATA_SOURCES] = "ring"  # where examples come from
    name: Optional[str] = None  # tfds: the dataset name (mnist, cifar10, celeb_a, ...)
    split: str = "train"  # tfds: the split to train on
    tfds_data_dir: Optional[str] = None  # tfds: where prepared datasets live (default ~/tensorflow_datasets)
    path: Optional[str] = None  # folder: the image folder; npz: the file; idx: the images file
    labels_path: Optional[str] = None  # idx: the labels file (needed for conditional models)
    image_key: str = "x"  # npz: the array of images
    label_key: str = "y"  # npz: the array of labels
    range: Optional[list[float]] = None  # npz float images: [0, 1] or [-1, 1] (null: inferred; anything else is refused)
    resolution: Optional[int] = None  # images are centre-cropped and resized to this square size
    pad: int = 0  # pixels of black added on every side after resizing (MNIST: 28 + 2 x 2 = 32)
    channels: Optional[int] = None  # 1 or 3; converts grey <-> colour (default: as stored)
    limit: Optional[int] = None  # use only the first N examples
    cache_mb: int = 4096  # folder/tfds: read into memory when the decoded images fit in this; larger data streams (0: always)
    num_examples: int = 100_000  # ring/grid: how many points to draw; shapes: how many images
    deterministic: bool = True  # false: tf.data may hand over batches out of order when faster (not reproducible)

    def validate(self):
        _positive(self, "data", "resolution", "limit", "num_examples")
        if self.pad < 0:
            _fail("data.pad", "a number of pixels >= 0", self.pad)
        if self.cache_mb < 0:
            _fail("data.cache_mb", "a number of megabytes >= 0 (0: always stream)", self.cache_mb)
        if self.pad and self.source in mixtures.NAMES:
            _fail("data.pad", f"0 for the 2D points of '{self.source}'", self.pad)
        if self.range is not None and tuple(self.range) not in ((0.0, 1.0), (-1.0, 1.0)):
            _fail("data.range", "[0, 1] or [-1, 1] (or null to infer it from the values)", self.range)
        if self.channels not in (None, 1, 3):
            _fail("data.channels", "1 or 3", self.channels)
        if self.source == "tfds" and not self.name:
            _fail("data.name", "a tensorflow-datasets name (e.g. mnist) for source 'tfds'", self.name)
        if self.source in ("folder", "npz", "idx") and not self.path:
            _fail("data.path", f"a path for source '{self.source}'", self.path)
        if self.source == shapes.NAME and self.resolution is not None and self.resolution < shapes.MIN_SIZE:
            _fail("data.resolution", f"a size >= {shapes.MIN_SIZE} for source 'shapes'", self.resolution)
        if self.source == "folder" and not self.resolution:
            _fail("data.resolution", "a size for source 'folder' (its images may differ in size)", self.resolution)


class _ModelKeys:
    """What every architecture shares; `ModelConfig` adds one section per architecture."""

    def validate(self, config):
        _positive(self, "model", "latent_dim", "pack")
        for name in architectures.NAMES:  # only the chosen network's section may differ from its defaults
            section = getattr(self, name)
            if name != self.network and section != type(section)():
                _fail(f"model.{name}", f"no settings for model.network {self.network!r}", dataclasses.asdict(section))
        self.options.validate(config, _fail)

    @property
    def options(self):
        """The chosen architecture's section."""
        return getattr(self, self.network)


ModelConfig = dataclasses.make_dataclass(
    "ModelConfig",
    [
        ("network", Literal[architectures.NAMES], "mlp"),  # the G/D architecture (tfgan.architectures)
        ("latent_dim", int, 100),  # size of z
        ("conditional", bool, False),  # condition G and D on class labels (cGAN)
        ("label_encoding", Literal["embedding", "one_hot"], "embedding"),  # cGAN: how G reads labels
        ("d_conditioning", Literal["concat", "projection"], "concat"),  # cGAN: how D reads labels
        ("pack", int, 1),  # PacGAN: D judges this many samples jointly (1: off; unconditional only)
        ("spectral_norm", bool, False),  # D's dense and conv layers in keras.layers.SpectralNormalization (SN-GAN)
        *[(name, arch.options, dataclasses.field(default_factory=arch.options)) for name, arch in architectures.ARCHITECTURES.items()],
    ],
    bases=(_ModelKeys,),
)
ModelConfig.__module__ = __name__
# Keys of architecture sections that configs written before the registry kept
# directly under `model:`; they are read into the section they belong to.
_MOVED_KEYS = {
    key: name for name, arch in architectures.ARCHITECTURES.items() for key in (f.name for f in dataclasses.fields(arch.options))
}


@dataclasses.dataclass
class LossConfig:
    name: Literal["minimax", "non_saturating", "least_squares", "wasserstein", "hinge"] = "non_saturating"
    label_smoothing: float = 0.0  # one-sided: real targets become 1 - label_smoothing
    gradient_penalty: float = 0.0  # WGAN-GP weight (10 in the paper); 0: off
    gradient_penalty_every: int = 1  # lazy WGAN-GP: computed every N discriminator updates, scaled by N
    r1_gamma: Union[float, Literal["auto"]] = 0.0  # R1 penalty gamma on real data; 0: off; auto: StyleGAN2-ADA's 0.0002 res^2 / batch
    r1_every: int = 1  # lazy R1: computed every N discriminator updates, scaled by N
    lazy_correction: bool = True  # a lazily regularized network's lr and Adam betas ** N/(N+1), as StyleGAN2 (tfgan.training.lazy_corrected)
    drift: float = 0.0  # adds drift x D(x)^2 on real data to D's loss (PGGAN: 0.001); 0: off

    def validate(self):
        if not 0.0 <= self.label_smoothing < 1.0:
            _fail("loss.label_smoothing", "a number in [0, 1)", self.label_smoothing)
        if self.label_smoothing and self.name in ("wasserstein", "hinge"):
            _fail("loss.label_smoothing", f"0 for the {self.name} loss, which has no labels", self.label_smoothing)
        for key in ("gradient_penalty", "r1_gamma", "drift"):
            if getattr(self, key) != "auto" and getattr(self, key) < 0:
                _fail(f"loss.{key}", "a weight >= 0 (0: off)", getattr(self, key))
        _positive(self, "loss", "r1_every", "gradient_penalty_every")


@dataclasses.dataclass
class OptimizerConfig:
    name: Literal["adam", "adamw", "rmsprop", "sgd"] = "adam"
    learning_rate: float = 2e-4
    beta_1: float = 0.5  # adam/adamw; 0.5 as in DCGAN
    beta_2: float = 0.999  # adam/adamw
    epsilon: float = 1e-7  # adam/adamw/rmsprop: added to the denominator (Keras' default; StyleGAN2: 1e-8)

    def validate(self, prefix):
        if self.learning_rate <= 0:
            _fail(f"{prefix}.learning_rate", "a positive number", self.learning_rate)
        for key in ("beta_1", "beta_2"):
            if not 0.0 <= getattr(self, key) < 1.0:
                _fail(f"{prefix}.{key}", "a number in [0, 1)", getattr(self, key))
        if self.epsilon <= 0:
            _fail(f"{prefix}.epsilon", "a positive number", self.epsilon)


@dataclasses.dataclass
class PhaseConfig:
    resolution: Optional[int] = None  # image size in this phase (growing networks, e.g. pggan)
    batch_size: Optional[int] = None  # examples per D minibatch (default: train.batch_size)
    fade_images: int = 0  # real images shown while this phase's resolution fades in
    stable_images: int = 0  # real images shown after the fade
    learning_rate: Optional[float] = None  # both optimizers' rate in this phase (default: theirs)

    def validate(self, key, previous):
        _positive(self, key, "resolution", "batch_size")
        for name in ("fade_images", "stable_images"):
            if getattr(self, name) < 0:
                _fail(f"{key}.{name}", "a number of images >= 0", getattr(self, name))
        if not self.fade_images + self.stable_images:
            _fail(f"{key}.stable_images", "a positive number of images (the phase shows none)", self.stable_images)
        if self.learning_rate is not None and self.learning_rate <= 0:
            _fail(f"{key}.learning_rate", "a positive number", self.learning_rate)
        if previous is not None and (self.resolution is None) != (previous.resolution is None):
            _fail(f"{key}.resolution", "a resolution in every phase or in none", self.resolution)
        if self.resolution is not None and self.resolution & (self.resolution - 1):
            _fail(f"{key}.resolution", "a power of two (4, 8, 16, ...)", self.resolution)
        grows = previous is not None and self.resolution is not None and self.resolution == 2 * previous.resolution
        if previous is not None and self.resolution is not None and not grows and self.resolution != previous.resolution:
            _fail(f"{key}.resolution", f"{previous.resolution} or {2 * previous.resolution} (the same as the phase before, or double)", self.resolution)
        if self.fade_images and not grows:
            _fail(f"{key}.fade_images", "0: there is no new resolution to fade in (it fades in when the resolution doubles)", self.fade_images)


@dataclasses.dataclass
class TrainConfig:
    steps: Optional[int] = None  # generator updates in all (null: 10000, or what train.phases add up to)
    batch_size: int = 64  # examples per D minibatch (global, over all replicas)
    d_steps: int = 1  # D updates per G update, each on its own real minibatch
    d_optimizer: OptimizerConfig = dataclasses.field(default_factory=OptimizerConfig)
    g_optimizer: OptimizerConfig = dataclasses.field(default_factory=OptimizerConfig)
    lr_schedule: Literal["constant", "linear"] = "constant"  # linear: both rates decay to 0 at train.steps
    reset_optimizers: bool = False  # both optimizers' state (moments, update count) restarts with each phase (PGGAN)
    ema_decay: float = 0.0  # >0 (e.g. 0.999): keep an EMA of G, used for samples and exports
    ema_kimg: float = 0.0  # >0: the EMA's half-life in thousands of images (StyleGAN2's 10), instead of ema_decay
    jit_compile: Literal["auto", True, False] = "auto"  # XLA; auto: on for MLPs, and for the convolutional networks on GPUs only (README, "Speed")
    steps_per_execution: int = 1  # steps per tf.function call; more hides Python overhead
    diff_augment: list[str] = dataclasses.field(default_factory=list)  # DiffAugment policy: color, translation, cutout
    mixed_precision: Literal["float32", "mixed_float16", "mixed_bfloat16", "auto"] = "float32"  # Keras dtype policy of G and D; auto: mixed_bfloat16 where the device computes bfloat16 natively
    loss_limit: float = 1e10  # a loss above this in magnitude stops the run as diverged, like NaN (0: NaN/inf only)
    phases: list[PhaseConfig] = dataclasses.field(default_factory=list)  # the phase schedule (tfgan.schedule); []: one phase

    def validate(self):
        _positive(self, "train", "steps", "batch_size", "d_steps", "steps_per_execution")
        for i, phase in enumerate(self.phases):
            phase.validate(f"train.phases[{i}]", self.phases[i - 1] if i else None)
            if phase.learning_rate is not None and self.lr_schedule != "constant":
                _fail("train.lr_schedule", "constant where train.phases set learning rates", self.lr_schedule)
        if self.phases:
            total = schedule.Schedule.from_config(self).total_steps
            if self.steps not in (None, total):
                _fail("train.steps", f"null or {total}, the steps train.phases add up to", self.steps)
            self.steps = total
        elif self.steps is None:
            self.steps = 10_000
        for i, name in enumerate(self.diff_augment):
            if name not in DIFF_AUGMENT_POLICIES:
                _fail(f"train.diff_augment[{i}]", "one of " + ", ".join(DIFF_AUGMENT_POLICIES), name)
        if self.loss_limit < 0:
            _fail("train.loss_limit", "a number >= 0 (0: stop on NaN or infinity only)", self.loss_limit)
        if not 0.0 <= self.ema_decay < 1.0:
            _fail("train.ema_decay", "a number in [0, 1) (0: no EMA)", self.ema_decay)
        if self.ema_kimg < 0 or (self.ema_kimg and self.ema_decay):
            _fail("train.ema_kimg", "a half-life >= 0, and 0 where train.ema_decay is set", self.ema_kimg)
        self.d_optimizer.validate("train.d_optimizer")
        self.g_optimizer.validate("train.g_optimizer")

    def ema(self):
        """The EMA's decay per step (0: none): ema_decay, or 0.5 ** (batch / half-life) from ema_kimg."""
        if self.ema_kimg:
            return 0.5 ** (self.batch_size / (self.ema_kimg * 1000.0))
        return self.ema_decay


@dataclasses.dataclass
class DistributeConfig:
    strategy: Literal[distribute.STRATEGIES] = "auto"  # auto: all GPUs if more than one, else one device
    devices: list[str] = dataclasses.field(default_factory=list)  # mirrored/one_device, e.g. [GPU:0, GPU:1]
    sync_batch_norm: bool = False  # batch norm statistics over the global batch, not each replica's share

    def validate(self):
        if self.devices and self.strategy not in ("mirrored", "one_device"):
            _fail("distribute.devices", f"[] for strategy {self.strategy!r} (devices are for mirrored and one_device)", self.devices)
        if len(self.devices) > 1 and self.strategy == "one_device":
            _fail("distribute.devices", "one device for strategy 'one_device'", self.devices)


@dataclasses.dataclass
class LogConfig:
    every: int = 100  # steps per Keras epoch: scalars are averaged over it and logged
    images_every: int = 1000  # steps between sample grids (a multiple of log.every)
    num_images: int = 64  # samples in a grid (cGAN: rounded to whole rows of classes)
    verbose: Literal[0, 1, 2] = 1  # 0: quiet; 1: a tick line per log.every steps (step, ms/step, time left, losses); 2: also Keras' progress bar

    def validate(self):
        _positive(self, "log", "every", "images_every", "num_images")
        _multiple("log.images_every", self.images_every, self.every)


@dataclasses.dataclass
class CheckpointConfig:
    every: int = 1000  # steps between checkpoints (a multiple of log.every)
    keep: int = 3  # how many recent checkpoints to keep

    def validate(self, log):
        _positive(self, "checkpoint", "every", "keep")
        _multiple("checkpoint.every", self.every, log.every)


@dataclasses.dataclass
class ExportConfig:
    formats: list[str] = dataclasses.field(default_factory=list)  # at the end of training: saved_model and/or onnx
    name: Optional[str] = None  # the model's directory under export.dir (default: the run's name)
    dir: str = "saved_models"  # base of the TF Serving layout: <dir>/<name>/<version>/
    opset: int = 17  # ONNX opset

    def validate(self):
        for i, value in enumerate(self.formats):
            if value not in export.FORMATS:
                _fail(f"export.formats[{i}]", "one of " + ", ".join(repr(f) for f in export.FORMATS), value)
        if self.name is not None and not export.layout.is_plain_name(self.name):
            _fail("export.name", "a plain directory name, without '/'", self.name)
        _positive(self, "export", "opset")


@dataclasses.dataclass
class EvalConfig:
    every: int = 0  # steps between evaluations logged to TensorBoard (0: none; a multiple of log.every)
    metrics: list[str] = dataclasses.field(default_factory=list)  # default: every metric that applies to the data
    features: Optional[str] = None  # image metrics: classifier:PATH or inception
    samples: int = 2000  # samples drawn per evaluation
    cache: Optional[str] = None  # where real-data features are cached (default ~/.cache/tfgan)

    def validate(self, data, log):
        if self.every < 0:
            _fail("eval.every", "0 (off) or a positive number of steps", self.every)
        if self.every:
            _multiple("eval.every", self.every, log.every)
        if self.samples < 2:
            _fail("eval.samples", "an integer >= 2", self.samples)
        for i, name in enumerate(self.metrics):
            if name not in metrics.METRICS:
                _fail(f"eval.metrics[{i}]", "one of " + ", ".join(metrics.METRICS), name)
        if self.features is not None and not parse_network(self.features, ("inception",)):
            _fail("eval.features", "classifier:PATH or inception", self.features)
        images = data.source not in mixtures.NAMES
        wanted = self.metrics or (list(metrics.IMAGE_METRICS) if images else [])
        if self.every and images and set(wanted) & set(metrics.IMAGE_METRICS) and self.features is None:
            _fail("eval.features", "classifier:PATH or inception for image metrics", self.features)


@dataclasses.dataclass
class Config:
    name: str = "run"  # names the run; the default run_dir is runs/<name>
    seed: int = 0  # seeds weights, noise and data order
    run_dir: Optional[str] = None  # where checkpoints, events and config.yaml go
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    loss: LossConfig = dataclasses.field(default_factory=LossConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)
    distribute: DistributeConfig = dataclasses.field(default_factory=DistributeConfig)
    log: LogConfig = dataclasses.field(default_factory=LogConfig)
    checkpoint: CheckpointConfig = dataclasses.field(default_factory=CheckpointConfig)
    export: ExportConfig = dataclasses.field(default_factory=ExportConfig)
    eval: EvalConfig = dataclasses.field(default_factory=EvalConfig)

    def validate(self):
        if not export.layout.is_plain_name(self.name):
            _fail("name", "a plain directory name (not empty, no '/', not . or ..)", self.name)
        if not 0 <= self.seed < 2**32:
            _fail("seed", "an integer in [0, 2**32)", self.seed)
        if self.run_dir is None:
            self.run_dir = f"runs/{self.name}"
        self.data.validate()
        self.loss.validate()
        self.train.validate()
        self.model.validate(self)  # after train: an architecture may read the phases
        self.distribute.validate()
        self.log.validate()
        self.checkpoint.validate(self.log)
        self.export.validate()
        self.eval.validate(self.data, self.log)
        # Keras runs whole executions even past steps_per_epoch, so every epoch and
        # the run itself must end on a multiple of it.
        for key, value in (("train.steps", self.train.steps), ("log.every", self.log.every)):
            _multiple(key, value, self.train.steps_per_execution, "train.steps_per_execution")
        if self.model.conditional and self.data.source in (*mixtures.NAMES, shapes.NAME):
            _fail("model.conditional", f"false for the unlabelled source '{self.data.source}'", True)
        if self.model.pack > 1 and self.model.conditional:
            _fail("model.pack", "1 for a conditional model (packed samples share no label)", self.model.pack)
        for key, batch in batch_sizes(self):
            _multiple(key, batch, self.model.pack, "model.pack")
        if self.train.diff_augment and self.data.source in mixtures.NAMES:
            _fail("train.diff_augment", "[] for 2D points (DiffAugment transforms images)", self.train.diff_augment)
        return self

    @property
    def schedule(self):
        return schedule.Schedule.from_config(self.train)

    def to_dict(self):
        """As YAML shows it: `model:` holds only the chosen architecture's section."""
        tree = dataclasses.asdict(self)
        for name in architectures.NAMES:
            if name != self.model.network:
                del tree["model"][name]
        return tree

    def to_yaml(self):
        return yaml.safe_dump(self.to_dict(), sort_keys=False)


def batch_sizes(config):
    """(key, batch size) for every batch size the run trains at."""
    if not config.train.phases:
        return [("train.batch_size", config.train.batch_size)]
    return [
        (f"train.phases[{i}].batch_size" if phase.batch_size else "train.batch_size", phase.batch_size or config.train.batch_size)
        for i, phase in enumerate(config.train.phases)
    ]


# --- Loading ---


def load(path, overrides=()):
    """Reads a YAML config, applies `key=value` overrides, and validates it."""
    try:
        with open(path) as f:
            raw = yaml.load(f, Loader=_UniqueKeyLoader)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path} is not valid YAML: {str(e).splitlines()[0]}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must hold a mapping of config keys, got a {type(raw).__name__}")
    for item in overrides:
        _apply_override(raw, item)
    return from_dict(raw)


class _UniqueKeyLoader(yaml.SafeLoader):
    """yaml.safe_load, except that a key given twice in one mapping is an error.

    Plain YAML keeps the last value, so a repeated key (or a whole repeated
    section) would silently drop what was written first.
    """

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise ConfigError(
                    f"{key_node.start_mark.name}: key {key!r} appears twice (lines {seen[key]} and {line}); "
                    "expected each key once"
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def from_dict(raw):
    return _build(Config, raw, "").validate()


def from_overrides(overrides):
    """A config from `key=value` items alone (defaults elsewhere), e.g. ["data.source=idx"]."""
    raw = {}
    for item in overrides:
        _apply_override(raw, item)
    return from_dict(raw)


def _apply_override(raw, item):
    key, sep, text = item.partition("=")
    if not sep or not key:
        raise ConfigError(f"--set expects key=value (e.g. train.steps=2000), got {item!r}")
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        value = text
    node = raw
    parts = key.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"--set {key}: {part} is not a section")
    node[parts[-1]] = value


def _build(cls, raw, prefix):
    if not isinstance(raw, dict):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'}: expected a mapping of keys, got {raw!r}")
    if cls is ModelConfig:
        raw = upgrade_model_keys(raw)
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(raw) - set(names))
    if unknown:
        raise ConfigError(
            f"unknown config key {prefix}{unknown[0]}; expected one of: {', '.join(names)}"
        )
    return cls(**{k: _coerce(v, hints[k], prefix + k) for k, v in raw.items()})


def upgrade_model_keys(model):
    """A `model:` mapping written before the architecture registry, in today's form.

    `{network: dcgan, filters: 32, g_hidden: [...]}` -> `{network: dcgan, dcgan: {filters: 32}}`:
    a flat key moves into its architecture's section; one of another architecture
    is dropped, as it was ignored then (old config.yaml files list them all).
    """
    model = dict(model)
    network = model.get("network", "mlp")
    for key in [k for k in model if k in _MOVED_KEYS]:
        value, owner = model.pop(key), _MOVED_KEYS[key]
        if owner == network:
            section = model.get(owner)
            model[owner] = {**(section if isinstance(section, dict) else {}), key: value}
    return model


def _coerce(value, hint, key):
    """Checks `value` against the type hint `hint`, converting int -> float."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, key + ".")
    if origin is typing.Union:  # Optional[X], or one of several types: the first that takes the value
        options = [a for a in args if a is not type(None)]
        if value is None and len(options) < len(args):
            return None
        expected = []
        for option in options:
            try:
                return _coerce(value, option, key)
            except ConfigError as e:
                expected.append(str(e).split(": expected ", 1)[1].rsplit(", got ", 1)[0])
        _fail(key, " or ".join(expected), value)
    if origin is Literal:
        choices = args[0] if len(args) == 1 and isinstance(args[0], tuple) else args
        if not any(value == c and type(value) is type(c) for c in choices):  # true is not 1
            _fail(key, "one of " + ", ".join(_yaml_text(c) for c in choices), value)
        return value
    if origin is list:
        if not isinstance(value, list):
            _fail(key, f"a list of {args[0].__name__}", value)
        return [_coerce(v, args[0], f"{key}[{i}]") for i, v in enumerate(value)]
    if hint is float and isinstance(value, str):
        try:  # YAML 1.1 reads 2e-4 (no dot) as a string; take it as the number meant
            value = float(value)
        except ValueError:
            pass
    if hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        # Checked here, once for every float key: `x <= 0` is false for NaN, so a
        # range check further on would let nan and .inf through.
        if not math.isfinite(value):
            _fail(key, "a finite number", value)
        return float(value)
    if hint is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if hint in (str, bool) and isinstance(value, hint):
        return value
    _fail(key, {int: "an integer", float: "a number", str: "a string", bool: "true or false"}[hint], value)


def _yaml_text(value):
    return {True: "true", False: "false"}[value] if isinstance(value, bool) else repr(value)


def _fail(key, expected, value):
    raise ConfigError(f"{key}: expected {expected}, got {value!r}")


def _positive(section, prefix, *keys):
    for key in keys:
        value = getattr(section, key)
        if value is not None and value <= 0:
            _fail(f"{prefix}.{key}", "a positive integer", value)


def _multiple(key, value, of, of_key="log.every"):
    if value % of:
        _fail(key, f"a multiple of {of_key} ({of})", value)
