"""A generator as a SavedModel for TF Serving, with its metadata in assets.extra/.

Keras' `ExportArchive` writes the signatures. The generator itself is not
`track`ed: Keras would then also trace its single-input default signature,
which a conditional generator (called with z and labels) cannot satisfy; the
endpoints capture every variable they use, which is all the export needs.
"""

import json
import os

import keras

from tfgan.export import signatures

METADATA_FILE = "tfgan.json"
CONFIG_FILE = "config.yaml"


def write(generator, directory, metadata):
    """Writes the SavedModel into the existing, empty `directory`."""
    archive = keras.export.ExportArchive()
    for name, (function, inputs) in signatures.endpoints(generator, centres=metadata.get("class_centres")).items():
        archive.add_endpoint(name, function, input_signature=inputs)
    archive.write_out(directory, verbose=False)
    # TF Serving copies assets.extra/ along but never reads it: the place for metadata.
    extra = os.path.join(directory, "assets.extra")
    os.makedirs(extra, exist_ok=True)
    with open(os.path.join(extra, METADATA_FILE), "w") as f:
        json.dump({k: v for k, v in metadata.items() if k != "config"}, f, indent=2)
    with open(os.path.join(extra, CONFIG_FILE), "w") as f:
        f.write(metadata.get("config") or "")
