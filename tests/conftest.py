import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MNIST_DIR = os.path.join(ROOT, "..", "shared", "data", "mnist-t10k")
MNIST_IMAGES = os.path.join(MNIST_DIR, "t10k-images-idx3-ubyte.gz")
MNIST_LABELS = os.path.join(MNIST_DIR, "t10k-labels-idx1-ubyte.gz")


@pytest.fixture
def mnist_paths():
    if not os.path.exists(MNIST_IMAGES):
        pytest.skip("the real MNIST test split is not at ../shared/data/mnist-t10k")
    return MNIST_IMAGES, MNIST_LABELS
