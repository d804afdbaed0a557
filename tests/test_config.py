import pytest
import yaml

from tfgan import config
from tfgan.errors import ConfigError


def write(tmp_path, text):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return str(path)


def test_shipped_configs_load_and_name_their_runs():
    import glob
    import os

    paths = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "configs", "*.yaml")))
    names = {os.path.basename(p)[:-5] for p in paths}
    assert {"ring", "grid", "gan_mnist", "dcgan_mnist", "cgan_mnist", "dcgan_cifar10", "dcgan_celeba64"} <= names
    for path in paths:
        c = config.load(path)
        assert c.run_dir == f"runs/{c.name}"


def test_set_overrides_any_value_with_yaml_typing(tmp_path):
    path = write(tmp_path, "name: x\ntrain: {steps: 10}\n")
    c = config.load(path, ["train.steps=2000", "data.source=idx", "data.path=/d/img.gz", "model.mlp.g_hidden=[8, 8]", "loss.label_smoothing=0.1"])
    assert (c.train.steps, c.data.source, c.data.path, c.model.mlp.g_hidden, c.loss.label_smoothing) == (2000, "idx", "/d/img.gz", [8, 8], 0.1)


def test_each_architecture_has_its_own_section_and_old_flat_keys_still_read(tmp_path):
    c = config.load(write(tmp_path, "model: {network: dcgan, dcgan: {filters: 16}}\ndata: {source: npz, path: x.npz}\n"))
    assert c.model.options == c.model.dcgan and c.model.dcgan.filters == 16
    shown = yaml.safe_load(c.to_yaml())["model"]
    assert shown["dcgan"] == {"filters": 16, "g_filters": None, "g_base_kernel": 0, "d_norm": "batch", "d_dropout": 0.0} and "mlp" not in shown  # only the chosen section
    # A config (or a run's config.yaml) from before the registry: keys of the network move into
    # its section, keys of the other networks were ignored then and are dropped.
    old = config.load(write(tmp_path, "model: {network: dcgan, filters: 16, g_hidden: [8]}\ndata: {source: npz, path: x.npz}\n"))
    assert old == c
    with pytest.raises(ConfigError, match=r"model.mlp: expected no settings for model.network 'dcgan'"):
        config.load(write(tmp_path, "model: {network: dcgan, mlp: {g_hidden: [8]}}\ndata: {source: npz, path: x.npz}\n"))


def test_exponent_without_a_dot_is_read_as_a_number(tmp_path):
    # PyYAML (YAML 1.1) reads 2e-4 as a string.
    c = config.load(write(tmp_path, "train: {d_optimizer: {learning_rate: 2e-4}}\n"))
    assert c.train.d_optimizer.learning_rate == pytest.approx(2e-4)


@pytest.mark.parametrize(
    "text, message",
    [
        ("trian: {steps: 5}\n", "unknown config key trian; expected one of: name, seed"),
        ("train: {stpes: 5}\n", "unknown config key train.stpes; expected one of: steps, batch_size"),
        ("train: {steps: many}\n", "train.steps: expected an integer, got 'many'"),
        ("train: {steps: 0}\n", "train.steps: expected a positive integer, got 0"),
        ("train: {batch_size: 6.5}\n", "train.batch_size: expected an integer, got 6.5"),
        ("loss: {name: wgan}\n", "loss.name: expected one of 'minimax', 'non_saturating'"),
        ("loss: {label_smoothing: 1.5}\n", r"loss.label_smoothing: expected a number in \[0, 1\), got 1.5"),
        ("loss: {name: hinge, label_smoothing: 0.1}\n", "loss.label_smoothing: expected 0 for the hinge loss"),
        ("data: {source: tfds}\n", "data.name: expected a tensorflow-datasets name"),
        ("data: {source: idx}\n", "data.path: expected a path for source 'idx'"),
        ("data: {channels: 2}\n", "data.channels: expected 1 or 3, got 2"),
        ("model: {mlp: {g_hidden: [8, -1]}}\n", r"model.mlp.g_hidden: expected a non-empty list of positive integers, got \[8, -1\]"),
        ("model: {conditional: yes please}\n", "model.conditional: expected true or false"),
        ("model: {conditional: true}\n", "model.conditional: expected false for the unlabelled source 'ring'"),
        ("model: {pack: 0}\n", "model.pack: expected a positive integer, got 0"),
        ("export: {formats: [saved_model, tflite]}\n", r"export.formats\[1\]: expected one of 'saved_model', 'onnx', got 'tflite'"),
        ("export: {formats: onnx}\n", "export.formats: expected a list of str, got 'onnx'"),
        ("export: {name: a/b}\n", "export.name: expected a plain directory name, without '/', got 'a/b'"),
        ("model: {pack: 3}\ntrain: {batch_size: 64}\n", r"train.batch_size: expected a multiple of model.pack \(3\), got 64"),
        ("data: {source: idx, path: x, labels_path: y}\nmodel: {conditional: true, pack: 2}\n", "model.pack: expected 1 for a conditional model"),
        ("log: {every: 100, images_every: 150}\n", r"log.images_every: expected a multiple of log.every \(100\), got 150"),
        ("checkpoint: {every: 50}\n", r"checkpoint.every: expected a multiple of log.every \(100\), got 50"),
        ("train: {d_optimizer: {beta_1: 1.0}}\n", r"train.d_optimizer.beta_1: expected a number in \[0, 1\)"),
        ("train: {steps: 120, steps_per_execution: 50}\n", r"train.steps: expected a multiple of train.steps_per_execution \(50\), got 120"),
        ("eval: {every: 150}\n", r"eval.every: expected a multiple of log.every \(100\), got 150"),
        ("eval: {every: 100, metrics: [modes, fid]}\n", r"eval.metrics\[1\]: expected one of frechet_distance, kid, precision_recall, classifier_score, class_accuracy, ppl, modes, got 'fid'"),
        ("eval: {features: resnet}\n", "eval.features: expected classifier:PATH or inception, got 'resnet'"),
        ("data: {source: npz, path: x.npz}\neval: {every: 100}\n", "eval.features: expected classifier:PATH or inception for image metrics, got None"),
        ("loss: {gradient_penalty: -1}\n", r"loss.gradient_penalty: expected a weight >= 0 \(0: off\), got -1"),
        ("loss: {r1_gamma: 1, r1_every: 0}\n", "loss.r1_every: expected a positive integer, got 0"),
        ("loss: {gradient_penalty: 10, gradient_penalty_every: 0}\n", "loss.gradient_penalty_every: expected a positive integer, got 0"),
        ("data: {source: npz, path: x.npz}\nmodel: {network: dcgan}\nloss: {gradient_penalty: 10}\n",
         "model.dcgan.d_norm: expected layer or none with a gradient penalty"),
        ("model: {network: dcgan, dcgan: {d_norm: group}}\n", "model.dcgan.d_norm: expected one of"),
        ("model: {network: dcgan, dcgan: {filters: 0}}\ndata: {source: npz, path: x.npz}\n", "model.dcgan.filters: expected a positive integer, got 0"),
        ("model: {network: dcgan, dcgan: {g_filters: -8}}\n", "model.dcgan.g_filters: expected a positive integer, or null for model.dcgan.filters, got -8"),
        ("model: {network: dcgan, dcgan: {d_dropout: 1.0}}\n", r"model.dcgan.d_dropout: expected a rate in \[0, 1\), got 1.0"),
        ("model: {network: dcgan, dcgan: {g_base_kernel: 4}}\n", r"model.dcgan.g_base_kernel: expected 0 \(none\) or an odd kernel size such as 3 or 5, got 4"),
        ("model: {network: mlp, mlp: {d_dropout: -0.1}}\n", r"model.mlp.d_dropout: expected a rate in \[0, 1\), got -0.1"),
        # `x <= 0` is false for NaN: every float key is checked for finiteness first.
        ("train: {d_optimizer: {learning_rate: .nan}}\n", "train.d_optimizer.learning_rate: expected a finite number, got nan"),
        ("train: {g_optimizer: {learning_rate: nan}}\n", "train.g_optimizer.learning_rate: expected a finite number, got nan"),
        ("loss: {r1_gamma: .inf}\n", "loss.r1_gamma: expected a finite number or one of 'auto', got inf"),
        ("loss: {r1_gamma: often}\n", "loss.r1_gamma: expected a number or one of 'auto', got 'often'"),
        ("train: {ema_decay: 0.9, ema_kimg: 10}\n", "train.ema_kimg: expected a half-life >= 0, and 0 where train.ema_decay is set"),
        ("model: {network: stylegan2, stylegan2: {style_mixing: 1.5}}\n", "model.stylegan2.style_mixing: expected a probability in \\[0, 1\\]"),
        ("model: {network: stylegan2, stylegan2: {channel_base: 256, channel_max: 64, mbstd_channels: 5}}\n",
         "model.stylegan2.mbstd_channels: expected a divisor of D's 64 maps at 4x4, got 5"),
        ("loss: {gradient_penalty: -.inf}\n", "loss.gradient_penalty: expected a finite number, got -inf"),
        ("train: {ema_decay: .nan}\n", "train.ema_decay: expected a finite number, got nan"),
        ("name: ..\n", r"name: expected a plain directory name \(not empty, no '/', not . or ..\), got '..'"),
        ("name: a/b\n", "name: expected a plain directory name"),
        ("name: ''\n", "name: expected a plain directory name"),
        ("seed: -1\n", r"seed: expected an integer in \[0, 2\*\*32\), got -1"),
        ("seed: 4294967296\n", r"seed: expected an integer in \[0, 2\*\*32\), got 4294967296"),
        ("train: {steps: 10}\ntrain: {batch_size: 2}\n", r"c.yaml: key 'train' appears twice \(lines 1 and 2\)"),
        ("train:\n  steps: 10\n  steps: 20\n", r"c.yaml: key 'steps' appears twice \(lines 2 and 3\)"),
        ("data: {source: npz, path: x.npz, range: [0, 255]}\n", r"data.range: expected \[0, 1\] or \[-1, 1\]"),
        ("train: {loss_limit: -1}\n", r"train.loss_limit: expected a number >= 0"),
        ("- just\n- a list\n", "must hold a mapping of config keys, got a list"),
        ("train: [1, 2]\n", "train: expected a mapping of keys"),
    ],
)
def test_bad_configs_name_the_key_and_what_was_expected(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        config.load(write(tmp_path, text))


def test_yaml_is_loaded_safely(tmp_path):
    text = "name: !!python/object/apply:os.system ['echo pwned']\n"
    with pytest.raises(ConfigError, match="not valid YAML"):
        config.load(write(tmp_path, text))


def test_bad_set_syntax_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="--set expects key=value"):
        config.load(write(tmp_path, "{}"), ["train.steps"])
    with pytest.raises(ConfigError, match="config file not found: nope.yaml"):
        config.load("nope.yaml")


def test_resolved_config_round_trips_through_yaml(tmp_path):
    c = config.load(write(tmp_path, "name: abc\nmodel: {network: dcgan}\ndata: {source: npz, path: x.npz}\n"))
    again = config.load(write(tmp_path, c.to_yaml()))
    assert again == c
