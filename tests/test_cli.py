"""`python -m tfgan.fit` as a user runs it: exit codes, messages, files on disk."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import yaml

from helpers import TINY_RING, overrides, read_events

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RING = os.path.join(ROOT, "configs", "ring.yaml")


def fit(*args, timeout=300):
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        [sys.executable, "-m", "tfgan.fit", *args], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=timeout,
    )


def tiny(tmp_path, **sections):
    tree = {**TINY_RING, "run_dir": str(tmp_path / "run")}
    for name, values in sections.items():
        tree[name] = {**TINY_RING[name], **values}
    return ["--config", RING, "--set", *overrides(tree)]


def test_dry_run_prints_the_resolved_config_and_exits(tmp_path):
    result = fit("--config", RING, "--dry-run", "--set", "train.steps=2000", f"run_dir={tmp_path}/r")
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)
    assert resolved["train"]["steps"] == 2000 and resolved["data"]["source"] == "ring"
    assert resolved["model"]["latent_dim"] == 2  # from the file (default 100); everything else from the defaults
    assert not os.path.exists(tmp_path / "r")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--dry-run", "--set", "train.stpes=5"], "unknown config key train.stpes; expected one of: steps"),
        (["--dry-run", "--set", "train.batch_size=-3"], "train.batch_size: expected a positive integer, got -3"),
        (["--dry-run", "--set", "loss.name=wgan"], "loss.name: expected one of"),
        (["--dry-run", "--set", "train.steps=2010"], "train.steps: expected a multiple of train.steps_per_execution (50), got 2010"),
        (["--set", "data.source=idx", "data.path=/nowhere/images.gz", "run_dir=/nowhere/run"], "idx file not found: /nowhere/images.gz (data.path)"),
        (["--resume", "--set", "run_dir=/nowhere/run"], "nothing to resume: /nowhere/run/checkpoints has no checkpoint"),
    ],
)
def test_user_mistakes_exit_2_with_one_line_and_no_traceback(args, message):
    result = fit("--config", RING, *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_missing_config_file_exits_2():
    result = fit("--config", "configs/nope.yaml")
    assert result.returncode == 2 and "config file not found: configs/nope.yaml" in result.stderr


def test_train_resume_and_the_files_a_user_gets(tmp_path):
    result = fit(*tiny(tmp_path), "log.verbose=1")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    # Said at once, then a tick per log.every steps with the time left, then what to do next.
    assert lines[0] == "tfgan.fit: loading the data (ring)"
    ticks = [line for line in lines if line.startswith("tfgan.fit: step ")]
    assert [t.split()[2] for t in ticks] == ["10/40", "20/40", "30/40", "40/40"]
    assert all(" ms/step " in t and " left " in t and "d_loss " in t and "g_loss " in t for t in ticks)
    assert ticks[-1].split()[3] == "(100%)" and " 0s left " in ticks[-1]
    assert "done at step 40" in result.stdout
    run = tmp_path / "run"
    assert lines[-3:] == [
        f"  samples:     {run / 'tensorboard' / 'samples' / 'step_00000040.png'}",
        f"  TensorBoard: tensorboard --logdir {run / 'tensorboard'}",
        f"  export:      python -m tfgan.export --run {run}",
    ]
    run = tmp_path / "run"
    assert yaml.safe_load((run / "config.yaml").read_text())["train"]["steps"] == 40
    assert sorted(os.listdir(run / "checkpoints")) == [
        "checkpoint", "ckpt-20.data-00000-of-00001", "ckpt-20.index", "ckpt-40.data-00000-of-00001", "ckpt-40.index",
    ]

    again = fit(*tiny(tmp_path))
    assert again.returncode == 2 and "already holds a run; pass --resume" in again.stderr

    # Resuming may extend the run and ask for an export at its end.
    exports = tmp_path / "saved_models"
    resumed = fit(*tiny(tmp_path), "train.steps=60", "export.formats=[saved_model]", f"export.dir={exports}", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "done at step 60" in resumed.stdout
    assert f"exported the generator to {exports / 'tiny' / '1'}" in resumed.stdout
    assert resumed.stdout.splitlines()[-1] == f"  samples of the export: python -m tfgan.generate --model {exports / 'tiny'} --out samples.png"
    assert json.loads((exports / "tiny" / "1" / "assets.extra" / "tfgan.json").read_text())["step"] == 60
    events = read_events(str(run / "tensorboard"))
    assert events["d_loss"]["steps"] == [10, 20, 30, 40, 50, 60]
    assert events["samples"]["steps"] == [20, 40, 60]


@contextlib.contextmanager
def running(args):
    """A fit in the background, always killed at the end (it may be set to train for 10**7 steps)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tfgan.fit", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
        # A shell that started the suite in the background ignores SIGINT, and children inherit that.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def _wait_for(predicate, process, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return
        if process.poll() is not None:
            raise AssertionError(f"fit exited early: {process.communicate()}")
        time.sleep(0.2)
    raise AssertionError("timed out")


def _logged_epochs(events_dir):
    return len(read_events(str(events_dir)).get("d_loss", {}).get("steps", [])) if events_dir.exists() else 0


@pytest.mark.parametrize("stop, code, said", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "stopped by SIGTERM")])
def test_ctrl_c_and_sigterm_save_a_checkpoint_and_resume_continues_from_it(tmp_path, stop, code, said):
    args = tiny(tmp_path, train={"steps": 10**7}, checkpoint={"every": 10**6})
    with running(args) as process:
        _wait_for(lambda: _logged_epochs(tmp_path / "run" / "tensorboard") >= 2, process)
        if stop == signal.SIGTERM:
            # While it runs, the directory is its own: a second fit is refused, and leaves it alone.
            second = fit(*args)
            assert second.returncode == 2, second.stderr
            assert f"{tmp_path / 'run'} is in use by another run (pid {process.pid} on " in second.stderr
            assert len(second.stderr.strip().splitlines()) == 1
        process.send_signal(stop)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == code, stderr
    assert "Traceback" not in stderr
    saved = [int(n[5:-6]) for n in os.listdir(tmp_path / "run" / "checkpoints") if n.endswith(".index")]
    assert len(saved) == 1 and saved[0] >= 20  # no periodic checkpoint was due: this one is the signal's
    assert f"{said} at step {saved[0]}" in stderr
    assert not (tmp_path / "run" / "run.lock").exists()  # released at exit

    resumed = fit(*args, f"train.steps={saved[0] + 15}", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert f"done at step {saved[0] + 15}" in resumed.stdout


def _raised(action):
    """What `action` raised, KeyboardInterrupt included (pytest.raises lets that one through)."""
    try:
        action()
    except KeyboardInterrupt as e:
        return type(e)
    return None


@pytest.mark.parametrize("stop, raised", [(signal.SIGINT, "KeyboardInterrupt"), (signal.SIGTERM, "Terminated")])
def test_a_signal_in_training_stops_at_the_next_batch_end_and_a_second_one_at_once(stop, raised):
    from tfgan.callbacks import signals

    before = signal.getsignal(stop)
    batch_end = signals.StopAtSignal()

    def wait():
        time.sleep(0.05)  # long enough for the handler to run

    with signals.deferred():
        assert _raised(lambda: (os.kill(os.getpid(), stop), wait())) is None  # mid-step: only marked
        assert _raised(lambda: batch_end.on_train_batch_end(0)).__name__ == raised
        assert _raised(lambda: batch_end.on_train_batch_end(1)) is None  # raised once, then cleared
        os.kill(os.getpid(), stop)
        assert _raised(lambda: (os.kill(os.getpid(), stop), wait())).__name__ == raised  # a second signal: at once
    assert signal.getsignal(stop) is before  # the previous handlers are back


def test_a_killed_run_resumes_from_its_last_checkpoint_and_its_leftovers_are_removed(tmp_path):
    args = tiny(tmp_path, train={"steps": 10**7})
    index = tmp_path / "run" / "checkpoints" / "checkpoint"
    with running(args) as process:
        _wait_for(index.exists, process)
        process.kill()  # SIGKILL: no chance to save, or to remove its lock file
        process.communicate()
    assert (tmp_path / "run" / "run.lock").exists()
    # What a save or an export killed midway leaves: TensorFlow's temp dir, tfgan's staging dir.
    (tmp_path / "run" / "checkpoints" / "ckpt-999_temp").mkdir()
    exports = tmp_path / "saved_models" / "tiny"
    exports.mkdir(parents=True)
    stale = exports / f".1.staging-{process.pid}@{socket.gethostname()}-0123abcd"
    stale.mkdir()
    latest = yaml.safe_load(index.read_text())["model_checkpoint_path"]
    step = int(latest.rsplit("-", 1)[1])
    resumed = fit(*args, f"train.steps={step + 10}", "export.formats=[saved_model]", f"export.dir={exports.parent}", "--resume")
    assert resumed.returncode == 0, resumed.stderr  # the dead owner's lock is stale: taken over
    assert f"done at step {step + 10}" in resumed.stdout
    assert not (tmp_path / "run" / "checkpoints" / "ckpt-999_temp").exists()
    assert sorted(os.listdir(exports)) == ["1"]


def test_a_diverging_run_exits_3_naming_the_step_and_exports_nothing(tmp_path):
    # SGD at a learning rate of 1e6: the weights are NaN within a few steps.
    exports = tmp_path / "saved_models"
    optimizer = "{name: sgd, learning_rate: 1.0e+6}"
    result = fit(*tiny(tmp_path), f"train.d_optimizer={optimizer}", f"train.g_optimizer={optimizer}",
                 "export.formats=[saved_model]", f"export.dir={exports}")
    assert result.returncode == 3, result.stderr
    assert "tfgan.fit: error: training diverged at step " in result.stderr and "no checkpoint was written" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "run" / "checkpoints").exists() and not exports.exists()
