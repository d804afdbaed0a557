"""Evaluation: sample quality of a generator against the real data.

- `classifier.py`: the small classifier tfgan trains on labelled data, for
  features and class probabilities with no download;
- `features.py`: feature extractors (that classifier, or InceptionV3);
- `report.py`: the metrics by name, real-data features cached;
- `python -m tfgan.evaluate`: `train-classifier` and `run` (see `__main__.py`).

The metrics themselves are NumPy functions in `tfgan.metrics`. This module
imports no TensorFlow, so that `python -m tfgan.evaluate --help` is instant.
"""

import os

# Where real-data features are cached between evaluations.
DEFAULT_CACHE = os.path.join(os.path.expanduser("~"), ".cache", "tfgan")


def parse_network(flag, names):
    """A flag that names a network to take features from, `classifier:PATH` or one of `names`
    (pretrained networks: inception, vgg16): ("classifier", PATH) or (name, None); None where
    it is neither."""
    if flag in names:
        return flag, None
    kind, _, path = flag.partition(":")
    return ("classifier", path) if kind == "classifier" and path else None
