"""The README is what a newcomer follows: keep it in step with CI and the config."""

import dataclasses
import os
import re

from tfgan import config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = open(os.path.join(ROOT, "README.md")).read()


def test_ci_runs_exactly_the_readmes_test_command():
    commands = re.findall(r"```\n(python3 -m venv .*)\n```", README)
    assert len(commands) == 2 and "tfgan.fit --config configs/ring.yaml" in commands[0]
    assert "pytest" in commands[1]
    ci = open(os.path.join(ROOT, ".ci", "run")).read()
    assert commands[1] in ci.splitlines()


def _keys(cls, prefix=""):
    for field in dataclasses.fields(cls):
        if dataclasses.is_dataclass(field.type) and field.name not in ("d_optimizer", "g_optimizer"):
            yield from _keys(field.type, f"{prefix}{field.name}.")
        else:
            yield prefix + field.name


def test_config_reference_lists_every_key():
    table = README[README.index("## Config reference"):README.index("## TensorBoard")]
    missing = [key for key in _keys(config.Config) if f"`{key}`" not in table]
    assert not missing, f"README's config reference lacks {missing}"
