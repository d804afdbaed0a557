"""A run assembled from a config, in-process: resume, checkpoints, TensorBoard."""

import os

import numpy as np
import pytest
import tensorflow as tf
import yaml

from helpers import make_config, random_images_npz, read_events, scalar
from tfgan import config as config_lib
from tfgan import training
from tfgan.callbacks import Checkpoints
from tfgan.errors import UserError


def test_resumed_run_continues_the_same_learning_curve(tmp_path):
    straight = make_config(tmp_path, "straight")
    training.train(straight)
    first_half = make_config(tmp_path, "resumed", train__steps=20)
    training.train(first_half)
    gan = training.train(make_config(tmp_path, "resumed"), resume=True)
    assert int(gan.step.numpy()) == 40

    a = read_events(os.path.join(straight.run_dir, "tensorboard"))
    b = read_events(os.path.join(first_half.run_dir, "tensorboard"))
    assert b["d_loss"]["steps"] == [10, 20, 30, 40]  # no step logged twice, none missing
    for step in (30, 40):
        for tag in ("d_loss", "g_loss", "d_real"):
            assert scalar(b, tag, step) == pytest.approx(scalar(a, tag, step), rel=1e-5, abs=1e-6)


def test_event_files_hold_scalars_sample_images_and_the_config(tmp_path):
    config = make_config(tmp_path)
    training.train(config)
    events = read_events(os.path.join(config.run_dir, "tensorboard"))
    for tag in ("d_loss", "g_loss", "d_real", "d_fake", "d_fake_after", "steps_per_second",
                "learning_rate/discriminator", "learning_rate/generator"):
        assert events[tag]["plugin"] == "scalars" and events[tag]["steps"] == [10, 20, 30, 40], tag
    assert scalar(events, "learning_rate/generator", 40) == pytest.approx(2e-4)
    assert events["samples"]["plugin"] == "images" and events["samples"]["steps"] == [20, 40]
    # An image summary is [width, height, png bytes...]; the PNG decodes to the scatter plot.
    png = tf.make_ndarray(events["samples"]["events"][-1].tensor_proto)[2]
    assert tf.io.decode_png(png).shape[-1] in (3, 4)
    assert events["config"]["plugin"] == "text"
    text = tf.make_ndarray(events["config"]["events"][0].tensor_proto).item().decode()
    assert "source: ring" in text
    assert sorted(os.listdir(os.path.join(config.run_dir, "tensorboard", "samples"))) == ["step_00000020.png", "step_00000040.png"]


def test_checkpoints_keep_the_last_n_and_the_config_is_written(tmp_path):
    config = make_config(tmp_path, train__steps=60, checkpoint__keep=2)
    training.train(config)
    names = sorted(n for n in os.listdir(os.path.join(config.run_dir, "checkpoints")) if n.endswith(".index"))
    assert names == ["ckpt-40.index", "ckpt-60.index"]
    saved = config_lib.load(os.path.join(config.run_dir, "config.yaml"))
    assert saved == config


def test_a_finished_run_is_not_overwritten_and_resume_needs_a_run(tmp_path):
    config = make_config(tmp_path)
    training.train(config)
    with pytest.raises(UserError, match="already holds a run; pass --resume"):
        training.train(config)
    with pytest.raises(UserError, match="nothing to resume"):
        training.train(make_config(tmp_path, "empty"), resume=True)


def test_resume_refuses_a_config_that_changes_what_is_trained(tmp_path):
    training.train(make_config(tmp_path))
    with pytest.raises(UserError, match=r"model.mlp.d_hidden: \[16\] -> \[32\]"):
        training.train(make_config(tmp_path, model__d_hidden=[32]), resume=True)


def test_resume_accepts_a_run_whose_config_predates_newer_keys(tmp_path):
    # A run started by an older tfgan has no `distribute:` block or `train.mixed_precision`
    # in its config.yaml; it trained with their defaults, so resuming it changes nothing.
    # Nor had it architecture sections: every network's keys sat flat under `model:`.
    config = make_config(tmp_path)
    training.train(config)
    path = os.path.join(config.run_dir, "config.yaml")
    with open(path) as f:
        saved = yaml.safe_load(f)
    del saved["distribute"], saved["train"]["mixed_precision"]
    saved["model"] = {**{k: v for k, v in saved["model"].items() if k != "mlp"}, **saved["model"]["mlp"], "filters": 64, "d_norm": "batch"}
    with open(path, "w") as f:
        yaml.safe_dump(saved, f)
    assert int(training.train(make_config(tmp_path, train__steps=60), resume=True).step.numpy()) == 60
    with pytest.raises(UserError, match=r"train.mixed_precision: 'float32' -> 'mixed_bfloat16'"):
        training.train(make_config(tmp_path, train__steps=80, train__mixed_precision="mixed_bfloat16"), resume=True)


def test_eval_block_logs_mode_metrics_to_tensorboard(tmp_path):
    config = make_config(tmp_path, eval__every=20, eval__samples=500)
    training.train(config)
    events = read_events(os.path.join(config.run_dir, "tensorboard"))
    for tag in ("eval/modes_captured", "eval/high_quality", "eval/reverse_kl"):
        assert events[tag]["steps"] == [20, 40]
    assert 0 <= scalar(events, "eval/modes_captured", 40) <= 8
    assert 0.0 <= scalar(events, "eval/high_quality", 40) <= 1.0


def test_corrupt_checkpoint_gives_a_clear_error_and_is_left_untouched(tmp_path):
    config = make_config(tmp_path)
    training.train(config)
    data_file = os.path.join(config.run_dir, "checkpoints", "ckpt-40.data-00000-of-00001")
    with open(data_file, "r+b") as f:
        f.truncate(16)
    before = open(data_file, "rb").read()
    with pytest.raises(UserError, match="ckpt-40 cannot be restored.*left untouched"):
        training.train(make_config(tmp_path, train__steps=60), resume=True)
    assert open(data_file, "rb").read() == before


def test_checkpoint_of_another_architecture_is_refused(tmp_path):
    config = make_config(tmp_path)
    training.train(config)
    other = make_config(tmp_path, model__d_hidden=[32])
    examples = training.data.load(other.data, False, 0)
    gan = training.build_gan(other, examples)
    with pytest.raises(UserError, match="cannot be restored into this model"):
        Checkpoints(gan, os.path.join(config.run_dir, "checkpoints")).restore_latest()


def test_checkpoint_restores_every_variable_of_a_dcgan_with_ema(tmp_path):
    # Batch-norm statistics are not trainable, so no optimizer holds them: a checkpoint
    # must save them itself (and the EMA of G) for a resumed run to continue exactly.
    data = random_images_npz(tmp_path / "images.npz")
    config = make_config(
        tmp_path, data__source="npz", data__path=str(data), model__network="dcgan", model__filters=8,
        train__steps=10, train__ema_decay=0.9, log__every=5, log__images_every=10, checkpoint__every=10,
    )
    trained = training.train(config)
    fresh = training.build_gan(config, training.data.load(config.data, False, 0))
    assert Checkpoints(fresh, os.path.join(config.run_dir, "checkpoints")).restore_latest() == 10
    for network in ("generator", "discriminator", "sampler"):  # the sampler: the EMA hook's copy of G
        saved, restored = getattr(trained, network).weights, getattr(fresh, network).weights
        assert any("moving_variance" in w.path for w in saved) or network == "discriminator"
        for a, b in zip(saved, restored):
            np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)


def test_leftover_temporary_files_of_an_interrupted_save_do_not_break_resume(tmp_path):
    config = make_config(tmp_path, train__steps=20)
    training.train(config)
    # What a process killed inside a save of step 30 leaves behind: a temp dir and
    # data files that the `checkpoint` index does not list.
    checkpoint_dir = os.path.join(config.run_dir, "checkpoints")
    os.makedirs(os.path.join(checkpoint_dir, "ckpt-30_temp"))
    with open(os.path.join(checkpoint_dir, "ckpt-30_temp", "part-00000-of-00001.data-00000-of-00001"), "wb") as f:
        f.write(b"\0" * 100)
    gan = training.train(make_config(tmp_path), resume=True)
    assert int(gan.step.numpy()) == 40


@pytest.mark.parametrize("start, total, every, plan", [
    (0, 40, 10, [(0, 4, 10)]),
    (0, 45, 10, [(0, 4, 10), (4, 5, 5)]),
    (13, 40, 10, [(1, 2, 7), (2, 4, 10)]),
    (13, 15, 10, [(1, 2, 2)]),
    (40, 40, 10, []),
])
def test_epoch_plan_ends_exactly_at_the_requested_step(start, total, every, plan):
    assert training.epoch_plan(start, total, every) == plan
    assert start + sum((e - i) * n for i, e, n in plan) == total


def test_dcgan_on_2d_points_is_a_user_error(tmp_path):
    config = make_config(tmp_path, model__network="dcgan")
    with pytest.raises(UserError, match="dcgan needs images"):
        training.train(config)


def test_conditional_dcgan_trains_on_real_mnist_and_draws_the_grid_by_class(tmp_path, mnist_paths):
    images, labels = mnist_paths
    config = make_config(
        tmp_path, data__source="idx", data__path=images, data__labels_path=labels, data__limit=256,
        model__network="dcgan", model__conditional=True, model__filters=8, train__steps=20,
    )
    gan = training.train(config)
    assert gan.generator.sample_shape == (28, 28, 1) and gan.num_classes == 10
    from PIL import Image

    grid = np.asarray(Image.open(os.path.join(config.run_dir, "tensorboard", "samples", "step_00000020.png")))
    assert grid.shape == (10 * 29 - 1, 6 * 29 - 1)  # one row per class, 64 // 10 = 6 per row


def test_linear_schedule_decays_both_learning_rates_to_zero_at_the_last_step(tmp_path):
    config = make_config(tmp_path, train__lr_schedule="linear", train__d_steps=2, train__batch_size=16)
    training.train(config)
    events = read_events(os.path.join(config.run_dir, "tensorboard"))
    for tag in ("learning_rate/generator", "learning_rate/discriminator"):
        assert scalar(events, tag, 20) == pytest.approx(1e-4)  # half way: half of 2e-4
        assert scalar(events, tag, 40) == pytest.approx(0.0, abs=1e-12)


def test_divergence_stops_at_its_step_and_the_last_good_checkpoint_stays_latest(tmp_path):
    from tfgan import callbacks, data
    from tfgan.errors import Diverged

    config = make_config(tmp_path, train__steps=20)
    examples = data.load(config.data, False, config.seed)
    gan = training.build_gan(config, examples)
    checkpoints = Checkpoints(gan, str(tmp_path / "ckpt"), keep=3)
    guard = [callbacks.DivergenceGuard(checkpoints), callbacks.CheckpointCallback(checkpoints, 10)]
    dataset = examples.dataset(32, seed=0)
    gan.fit(dataset, epochs=1, steps_per_epoch=10, callbacks=guard, verbose=0)
    assert checkpoints.latest.endswith("ckpt-10")
    weights = [w.numpy() for w in checkpoints.variables]
    # A NaN in D's logit layer: the loss of the next step (11) is NaN.
    logit = gan.discriminator.trainable_weights[-2]
    logit.assign(tf.tensor_scatter_nd_update(logit, [[0, 0]], [np.nan]))
    with pytest.raises(Diverged, match=r"training diverged at step 11: a loss became NaN, infinite .*the last good checkpoint is .*ckpt-10"):
        gan.fit(dataset, epochs=2, initial_epoch=1, steps_per_epoch=10, callbacks=guard, verbose=0)
    assert int(gan.step.numpy()) == 20  # found at the end of the epoch: no per-step host sync
    with pytest.raises(Diverged, match="variables .* are non-finite at step 20; not saved"):
        checkpoints.save()
    assert checkpoints.latest.endswith("ckpt-10") and tf.train.latest_checkpoint(str(tmp_path / "ckpt")).endswith("ckpt-10")

    # A NaN in D's first layer: ReLU turns NaN into 0, so the losses stay finite
    # while the NaN reaches G's weights through the gradients. The weights are checked too.
    for variable, value in zip(checkpoints.variables, weights):
        variable.assign(value)
    gan.non_finite_step.assign(-1)
    first = gan.discriminator.trainable_weights[0]
    first.assign(tf.tensor_scatter_nd_update(first, [[0, 0]], [np.nan]))
    with pytest.raises(Diverged, match=r"training diverged between steps 20 and 30: .*variables \(generator/"):
        gan.fit(dataset, epochs=3, initial_epoch=2, steps_per_epoch=10, callbacks=guard, verbose=0)
    assert int(gan.non_finite_step.numpy()) == -1  # the losses never showed it


def test_a_loss_beyond_the_limit_counts_as_divergence(tmp_path):
    from tfgan.errors import Diverged

    # The non-saturating losses start near log 4 = 1.39 > 1: the first step is over the limit.
    with pytest.raises(Diverged, match=r"at step 1: .* or larger than train.loss_limit \(1\)"):
        training.train(make_config(tmp_path, train__loss_limit=1.0))
    assert not os.path.exists(os.path.join(tmp_path, "run", "checkpoints"))
    training.train(make_config(tmp_path, "off", train__loss_limit=0.0, train__steps=10))  # 0: NaN and infinity only


def test_a_fit_refused_for_its_data_leaves_no_half_run_behind(tmp_path):
    too_big = make_config(tmp_path, train__batch_size=64, data__num_examples=50)
    with pytest.raises(UserError, match="the data has 50 examples but one step needs 64"):
        training.train(too_big)
    assert not os.path.exists(too_big.run_dir)  # no config.yaml, generator.json or tensorboard/ to block a retry
    training.train(make_config(tmp_path, train__steps=10, data__num_examples=50, train__batch_size=16))


def test_building_the_networks_sets_no_global_seed(tmp_path):
    import random

    import keras

    from tfgan import data

    config = make_config(tmp_path)
    examples = data.load(config.data, False, config.seed)
    random.seed(123)
    np.random.seed(123)
    expected = (random.random(), np.random.random())
    random.seed(123)
    np.random.seed(123)
    first = [w.numpy() for w in training.build_gan(config, examples).generator.weights]
    assert (random.random(), np.random.random()) == expected  # the caller's generators are as they were
    again = [w.numpy() for w in training.build_gan(config, examples).generator.weights]
    reseeded = make_config(tmp_path)
    reseeded.seed = 1
    other = [w.numpy() for w in training.build_gan(reseeded, examples).generator.weights]
    assert all(np.array_equal(a, b) for a, b in zip(first, again))  # the weights are the seed's
    assert not np.array_equal(first[0], other[0])
    assert keras.backend.backend() == "tensorflow"


def test_a_gan_saved_as_keras_file_loads_with_its_compile_config_and_trains_on_identically(tmp_path):
    import keras

    from tfgan import data

    config = make_config(tmp_path, loss__r1_gamma=0.1, train__ema_decay=0.9, train__lr_schedule="linear")
    examples = data.load(config.data, False, config.seed)
    gan = training.build_gan(config, examples)
    dataset = examples.dataset(32, config.seed)
    gan.fit(dataset, epochs=1, steps_per_epoch=5, verbose=0)
    gan.save(tmp_path / "gan.keras")
    loaded = keras.models.load_model(tmp_path / "gan.keras")
    assert int(loaded.step.numpy()) == 5 and loaded.loss_fn.name == "non_saturating"
    assert type(loaded.d_optimizer) is keras.optimizers.Adam and loaded.d_optimizer.beta_1 == 0.5
    np.testing.assert_array_equal(loaded.generate(4, seed=1), gan.generate(4, seed=1))  # the EMA generator
    # Both continue from step 5 with the same optimizer state: the same weights after.
    resumed = examples.dataset(32, config.seed, start_example=5 * 32)
    for model in (gan, loaded):
        model.fit(resumed, epochs=1, steps_per_epoch=3, verbose=0)
    for a, b in zip(gan.generator.weights + gan.discriminator.weights, loaded.generator.weights + loaded.discriminator.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


def test_plotting_leaves_pyplot_and_its_backend_alone():
    import subprocess
    import sys

    script = (
        "import sys, numpy as np\n"
        "from tfgan import visualize\n"
        "pixels = visualize.scatter_plot(np.zeros((10, 2)), np.ones((10, 2)), size=96)\n"
        "assert pixels.shape == (96, 96, 3), pixels.shape\n"
        # pyplot holds the global backend and figure registry; matplotlib.use() would have chosen one.
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
