"""tf.distribute: 1 vs 2 replicas (two logical CPUs, see conftest), a two-worker cluster, mixed precision, XLA rule."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from helpers import make_config, random_images_npz, read_events, scalar
from tfgan import data, distribute, training
from tfgan.errors import UserError
from tfgan.gan import GAN
from tfgan.hooks import Hook

ONE = {"strategy": "one_device", "devices": ["CPU:0"]}
TWO = {"strategy": "mirrored", "devices": ["CPU:0", "CPU:1"]}
LOSSES = ("d_loss", "g_loss", "d_real", "d_fake", "d_fake_after")


def checkpoint_values(run_dir):
    reader = tf.train.load_checkpoint(os.path.join(run_dir, "checkpoints"))
    names = [name for name, _ in tf.train.list_variables(os.path.join(run_dir, "checkpoints"))]
    return {name: reader.get_tensor(name) for name in names if name != "_CHECKPOINTABLE_OBJECT_GRAPH" and "save_counter" not in name}


def assert_same_run(a, b, tolerance=1e-5):
    """The same checkpointed variables and the same logged losses."""
    va, vb = checkpoint_values(a.run_dir), checkpoint_values(b.run_dir)
    assert va.keys() == vb.keys() and len(va) > 10
    for name in va:
        np.testing.assert_allclose(va[name], vb[name], atol=tolerance, rtol=tolerance, err_msg=name)
    ea, eb = (read_events(os.path.join(c.run_dir, "tensorboard")) for c in (a, b))
    for tag in LOSSES:
        for step in ea[tag]["steps"]:
            assert scalar(eb, tag, step) == pytest.approx(scalar(ea, tag, step), rel=tolerance, abs=tolerance), tag


def test_two_replicas_train_the_weights_and_report_the_losses_of_one(tmp_path):
    # d_steps 2 (strided minibatches), PacGAN packing and an EMA of G, all under 2 replicas.
    changes = dict(
        train__steps=20, train__batch_size=16, train__d_steps=2, train__ema_decay=0.9,
        model__pack=2, log__every=10, log__images_every=20, checkpoint__every=10,
    )
    one = make_config(tmp_path, "one", distribute=ONE, **changes)
    two = make_config(tmp_path, "two", distribute=TWO, **changes)
    training.train(one)
    gan_two = training.train(two)
    assert gan_two.distribute_strategy.num_replicas_in_sync == 2
    assert int(gan_two.step.numpy()) == 20 and int(gan_two.d_optimizer.iterations.numpy()) == 40
    assert_same_run(one, two)
    # Not N times too small: the logged d_loss is the mean over the global batch.
    assert scalar(read_events(os.path.join(two.run_dir, "tensorboard")), "d_loss", 20) > 0.5


def test_sync_batch_norm_makes_two_replicas_of_dcgan_match_one(tmp_path):
    path = random_images_npz(tmp_path / "images.npz")
    common = dict(
        data={"source": "npz", "path": path}, model={"network": "dcgan", "filters": 8, "latent_dim": 8},
        train__steps=4, train__batch_size=16, log__every=4, log__images_every=4, checkpoint__every=4,
    )
    sync = {"sync_batch_norm": True}
    one = make_config(tmp_path, "one", distribute={**ONE, **sync}, **common)
    two = make_config(tmp_path, "two", distribute={**TWO, **sync}, **common)
    local = make_config(tmp_path, "local", distribute=TWO, **common)  # per-replica statistics
    for config in (one, two, local):
        training.train(config)
    assert_same_run(one, two)
    stats = "generator/3/.ATTRIBUTES/VARIABLE_VALUE"  # project_norm's moving mean
    assert not np.allclose(checkpoint_values(one.run_dir)[stats], checkpoint_values(local.run_dir)[stats], atol=1e-6)


def test_dropout_in_d_drops_the_same_units_on_two_replicas_as_on_one(tmp_path):
    # D's dropout masks are drawn statelessly for the global batch and sliced, like z.
    path = random_images_npz(tmp_path / "images.npz")
    common = dict(
        data={"source": "npz", "path": path}, model={"network": "dcgan", "filters": 8, "latent_dim": 8, "d_norm": "none"},
        train__steps=4, train__batch_size=16, log__every=4, log__images_every=4, checkpoint__every=4,
    )
    dropout = {**common, "model": {**common["model"], "d_dropout": 0.5}}
    sync = {"sync_batch_norm": True}  # G's batch norm, as in the test above
    one = make_config(tmp_path, "one", distribute={**ONE, **sync}, **dropout)
    two = make_config(tmp_path, "two", distribute={**TWO, **sync}, **dropout)
    plain = make_config(tmp_path, "plain", distribute={**ONE, **sync}, **common)
    for config in (one, two, plain):
        training.train(config)
    assert_same_run(one, two)
    logit = "discriminator/2/.ATTRIBUTES/VARIABLE_VALUE"  # the logit layer's kernel: trained through the masks
    assert not np.allclose(checkpoint_values(one.run_dir)[logit], checkpoint_values(plain.run_dir)[logit], atol=1e-6)


class LogitPenalty(Hook):
    """A penalty on D's squared real logits: per example, like a gradient penalty."""

    def discriminator_penalty(self, gan, real, fake, labels):
        return 0.5 * tf.square(tf.reshape(gan.discriminator(real, labels, training=True), [-1]))


def trained_on_one_and_two_replicas(tmp_path, hook):
    """[(gan, fit history)] of the tiny config's networks with `hook`, 3 SGD steps on one
    replica and then on two, from the same weights and data."""
    config = make_config(tmp_path, train__batch_size=16)
    examples = data.load(config.data, False, 0)
    trained = []
    for spec in (ONE, TWO):
        strategy = distribute.make_strategy(make_config(tmp_path, distribute=spec).distribute)
        gan = training.build_gan(config, examples, strategy)
        with strategy.scope():
            gan = GAN(gan.generator, gan.discriminator, hooks=[hook])
            gan.compile(d_optimizer="sgd", g_optimizer="sgd")
        trained.append((gan, gan.fit(examples.dataset(16, 0), steps_per_epoch=3, epochs=1, verbose=0).history))
    return trained


def test_penalties_are_averaged_over_the_global_batch(tmp_path):
    (one, _), (two, _) = trained_on_one_and_two_replicas(tmp_path, LogitPenalty())
    for a, b in zip(one.discriminator.weights, two.discriminator.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)


class GradientWeighted(Hook):
    """A G penalty, and the adversarial term weighed by the ratio of the two terms' gradient
    norms at G's first kernel (VQGAN's adaptive weight, on a toy): per-replica gradients would
    weigh differently on each replica."""

    def generator_penalty(self, gan, real, fake, labels):
        return tf.reduce_sum(tf.square(fake), axis=1)

    def adversarial_weight(self, gan, terms, gradient):
        kernel = gan.generator.trainable_variables[0]
        return tf.norm(gradient(self.name, kernel)) / (tf.norm(gradient("adversarial", kernel)) + 1e-4)


def test_an_adversarial_weight_from_gradients_is_the_same_on_two_replicas(tmp_path):
    (one, one_logs), (two, two_logs) = trained_on_one_and_two_replicas(tmp_path, GradientWeighted())
    for a, b in zip(one.generator.weights, two.generator.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)
    logged = [one_logs["adversarial_weight"][-1], two_logs["adversarial_weight"][-1]]
    assert logged[0] == pytest.approx(logged[1], rel=1e-5) and logged[0] != pytest.approx(1.0, abs=0.05)


def test_gradient_penalty_and_lazy_r1_train_the_same_weights_on_two_replicas(tmp_path):
    # alpha is drawn for the global batch and sliced, like z, so each example gets the same alpha.
    changes = dict(
        train__steps=20, train__batch_size=16, log__every=10, log__images_every=20, checkpoint__every=10,
        loss={"name": "wasserstein", "gradient_penalty": 10.0, "r1_gamma": 1.0, "r1_every": 2},
    )
    one = make_config(tmp_path, "one", distribute=ONE, **changes)
    two = make_config(tmp_path, "two", distribute=TWO, **changes)
    training.train(one), training.train(two)
    assert_same_run(one, two, tolerance=1e-4)


def test_batch_that_replicas_and_packing_cannot_split_is_refused(tmp_path):
    with pytest.raises(UserError, match=r"train.batch_size: expected a multiple of 4 \(2 replicas x model.pack 2\), got 18"):
        training.train(make_config(tmp_path, distribute=TWO, model__pack=2, train__batch_size=18))


def test_distribute_mistakes_are_user_errors(tmp_path, monkeypatch):
    with pytest.raises(UserError, match=r"distribute.devices: no device 'GPU:3' here; expected some of CPU:0, CPU:1"):
        distribute.make_strategy(make_config(tmp_path, distribute={"strategy": "mirrored", "devices": ["GPU:3"]}).distribute)
    with pytest.raises(UserError, match=r"distribute.devices: expected \[\] for strategy 'auto'"):
        make_config(tmp_path, distribute={"devices": ["CPU:0"]})
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(UserError, match="multi_worker needs the cluster in the TF_CONFIG environment variable"):
        distribute.make_strategy(make_config(tmp_path, distribute={"strategy": "multi_worker"}).distribute)
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(UserError, match="TF_CONFIG is not valid"):
        distribute.cluster_task()


def test_only_the_chief_of_a_cluster_writes(monkeypatch):
    cluster = {"worker": ["a:1", "b:2"]}
    for index, chief in ((0, True), (1, False)):
        monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}))
        assert distribute.is_chief("multi_worker") is chief
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"chief": ["c:0"], **cluster}, "task": {"type": "worker", "index": 0}}))
    assert distribute.is_chief("multi_worker") is False
    assert distribute.is_chief("mirrored") is True


# --- XLA ---


def test_jit_compile_auto_picks_xla_for_mlps_and_not_for_dcgan_on_cpu(tmp_path):
    mlp = make_config(tmp_path, train__jit_compile="auto")
    dcgan = make_config(tmp_path, train__jit_compile="auto", model={"network": "dcgan"})
    assert training.use_xla(mlp, replicas=1) is True
    assert training.use_xla(dcgan, replicas=1) is False  # this machine has no GPU
    assert training.use_xla(mlp, replicas=2) is False  # Keras 3 cannot (keras-team/keras#19005)
    with pytest.raises(UserError, match="train.jit_compile: expected auto or false with 2 replicas"):
        training.use_xla(make_config(tmp_path, train__jit_compile=True), replicas=2)


# --- Mixed precision ---


def test_mixed_bfloat16_computes_in_bfloat16_keeps_float32_logits_and_exports_float32(tmp_path):
    config = make_config(tmp_path, train__mixed_precision="mixed_bfloat16", train__steps=20)
    gan = training.train(config)
    dense = gan.generator.hidden[0]
    assert dense.compute_dtype == "bfloat16" and dense.kernel.dtype == "float32"
    logits = gan.discriminator(tf.zeros([4, 2]), training=False)
    assert logits.dtype == tf.float32
    assert gan.generate(8).dtype == tf.float32
    events = read_events(os.path.join(config.run_dir, "tensorboard"))
    assert all(np.isfinite(scalar(events, tag, 20)) for tag in LOSSES)
    assert tf.keras.mixed_precision.global_policy().name == "float32"  # the policy does not leak

    from tfgan import export

    version = export.export_run(config.run_dir, base_dir=str(tmp_path / "saved_models"), formats=("saved_model",))
    serve = tf.saved_model.load(version).signatures["serving_default"]
    z = tf.random.stateless_normal([8, 4], seed=[1, 2])
    out = serve(z=z)["samples"]
    assert out.dtype == tf.float32
    # The float32 export computes what the bfloat16 generator approximates.
    np.testing.assert_allclose(out.numpy(), gan.sampler(z).numpy().astype(np.float32), atol=0.05)


def test_mixed_precision_auto_takes_bfloat16_only_where_the_cpu_computes_it(tmp_path, monkeypatch):
    config = make_config(tmp_path, train__mixed_precision="auto")
    monkeypatch.setattr(training, "_cpu_flags", lambda: {"avx2", "avx512f"})  # bfloat16 emulated: slower
    assert training.precision(config) == "float32"
    monkeypatch.setattr(training, "_cpu_flags", lambda: {"avx512f", "avx512_bf16"})
    assert training.precision(config) == "mixed_bfloat16"
    assert training.build_gan(config, data.load(config.data, False, 0)).generator.hidden[0].compute_dtype == "bfloat16"
    assert training.precision(make_config(tmp_path, train__mixed_precision="float32")) == "float32"  # as asked
    # The real flags of this machine, read from /proc/cpuinfo.
    monkeypatch.undo()
    flags = open("/proc/cpuinfo").read().split()
    native = "avx512_bf16" in flags or "amx_bf16" in flags
    assert training.precision(config) == ("mixed_bfloat16" if native else "float32")


def test_mixed_float16_scales_both_losses_and_resumes(tmp_path):
    import keras

    config = make_config(tmp_path, train__mixed_precision="mixed_float16", train__steps=20)
    gan = training.train(config)
    for optimizer in (gan.d_optimizer, gan.g_optimizer):
        assert isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
        assert float(optimizer.dynamic_scale.numpy()) > 1.0
    assert gan.generator.hidden[0].compute_dtype == "float16"
    resumed = training.train(make_config(tmp_path, train__mixed_precision="mixed_float16", train__steps=40), resume=True)
    assert int(resumed.step.numpy()) == 40
    events = read_events(os.path.join(config.run_dir, "tensorboard"))
    assert events["d_loss"]["steps"] == [10, 20, 30, 40]
    assert all(np.isfinite(scalar(events, "d_loss", step)) for step in (10, 20, 30, 40))


# --- Several workers ---


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def run_cluster(config_path, tmp_path, *args, indices=(0, 1)):
    """Runs `python -m tfgan.fit` as the workers `indices` of a two-worker localhost cluster; returns their results."""
    workers = [f"localhost:{port}" for port in free_ports(2)]
    processes = []
    for index in indices:
        scratch = tmp_path / f"tmp{index}"
        scratch.mkdir(exist_ok=True)
        env = {
            **os.environ, "TMPDIR": str(scratch), "TF_CPP_MIN_LOG_LEVEL": "3",
            "TF_CONFIG": json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}),
        }
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "tfgan.fit", "--config", str(config_path), *args],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        ))
    return [(p.wait(timeout=240), *p.communicate()) for p in processes]


@pytest.mark.slow
def test_two_workers_train_only_the_chief_writes_and_resume_works(tmp_path):
    import yaml

    run_dir = tmp_path / "run"
    config_path = tmp_path / "cluster.yaml"
    config_path.write_text(yaml.safe_dump({
        "name": "cluster", "run_dir": str(run_dir),
        "data": {"source": "ring", "num_examples": 1024},
        "model": {"latent_dim": 4, "g_hidden": [16], "d_hidden": [16]},
        "train": {"steps": 20, "batch_size": 32}, "distribute": {"strategy": "multi_worker"},
        "log": {"every": 10, "images_every": 10, "verbose": 0}, "checkpoint": {"every": 10},
    }))
    for args, last in (((), 20), (("--resume", "--set", "train.steps=40"), 40)):
        results = run_cluster(config_path, tmp_path, *args)
        for code, out, err in results:
            assert code == 0, err[-2000:]
            assert f"done at step {last}" in out
        assert tf.train.latest_checkpoint(str(run_dir / "checkpoints")).endswith(f"ckpt-{last}")
    # One writer: a single event file, with every step logged once.
    assert len([f for f in os.listdir(run_dir / "tensorboard") if f.startswith("events")]) == 2  # one per launch
    events = read_events(str(run_dir / "tensorboard"))
    assert events["d_loss"]["steps"] == [10, 20, 30, 40]
    # The worker's scratch checkpoints are gone.
    assert os.listdir(tmp_path / "tmp1") == []
    # The chief holds the run directory as a single run does: one in use refuses it.
    from tfgan import rundir

    with rundir.locked(str(run_dir)):
        ((code, out, err),) = run_cluster(config_path, tmp_path, "--resume", "--set", "train.steps=60", indices=(0,))
    assert code == 2 and f"{run_dir} is in use by another run (pid {os.getpid()}" in err
