import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402

# Two logical CPUs, so that MirroredStrategy runs two replicas on this machine
# (tests/test_distribute.py). It must happen before TensorFlow starts; the
# default strategy keeps using CPU:0 alone.
tf.config.set_logical_device_configuration(
    tf.config.list_physical_devices("CPU")[0], [tf.config.LogicalDeviceConfiguration()] * 2
)

import pytest  # noqa: E402
from helpers import RUNS, random_images_npz  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MNIST_DIR = os.path.join(ROOT, "..", "shared", "data", "mnist-t10k")
MNIST_IMAGES = os.path.join(MNIST_DIR, "t10k-images-idx3-ubyte.gz")
MNIST_LABELS = os.path.join(MNIST_DIR, "t10k-labels-idx1-ubyte.gz")


@pytest.fixture
def mnist_paths():
    if not os.path.exists(MNIST_IMAGES):
        pytest.skip("the real MNIST test split is not at ../shared/data/mnist-t10k")
    return MNIST_IMAGES, MNIST_LABELS


@pytest.fixture(scope="session")
def runs(tmp_path_factory):
    """{kind: (run_dir, generator)} for the three runs, each trained for 10 steps."""
    from tfgan import config as config_lib
    from tfgan import training

    root = tmp_path_factory.mktemp("runs")
    made = {}
    for kind, (model, shape, conditional) in RUNS.items():
        data = random_images_npz(os.path.join(root, f"{kind}.npz"), shape, labels=True)
        config = config_lib.from_dict({
            "name": kind, "run_dir": os.path.join(root, kind), "data": {"source": "npz", "path": data},
            "model": model, "train": {"steps": 10, "batch_size": 16},
            "log": {"every": 5, "images_every": 10, "verbose": 0}, "checkpoint": {"every": 10},
        })
        made[kind] = (config.run_dir, training.train(config).generator)
    return made


@pytest.fixture(scope="session")
def exported(runs, tmp_path_factory):
    """{kind: version directory} with both formats."""
    from tfgan import export

    base = tmp_path_factory.mktemp("saved_models")
    return {kind: export.export_run(run_dir, base_dir=str(base)) for kind, (run_dir, _) in runs.items()}


@pytest.fixture(scope="session")
def stylegan2_run(tmp_path_factory):
    """A tiny 16 px stylegan2 run on shapes, trained 4 steps, and its export (both formats):
    {"run_dir", "gan", "export"}; what DragGAN and inversion are tested on."""
    from test_stylegan2 import stylegan2_config

    from tfgan import export, training

    root = tmp_path_factory.mktemp("stylegan2_run")
    config = stylegan2_config(root, "sg", train={"steps": 4})
    gan = training.train(config)
    version = export.export_run(config.run_dir, "sg", str(root / "exports"), "saved_model,onnx", version=1)
    return {"run_dir": config.run_dir, "gan": gan, "export": version}
