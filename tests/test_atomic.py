import os
import subprocess
import sys

import pytest

from tfgan import atomic
from tfgan.errors import UserError


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic.replacing(str(path)) as tmp:
            open(tmp, "w").write("half")
            raise RuntimeError("killed mid-write")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["a.txt"]
    atomic.write_text(str(path), "new")
    assert path.read_text() == "new" and os.listdir(tmp_path) == ["a.txt"]


def test_destinations_that_cannot_be_written_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="directory .*missing does not exist"):
        atomic.write_text(str(tmp_path / "missing" / "a.txt"), "x", make_dirs=False)
    with pytest.raises(UserError, match="is a directory; expected the path of a file"):
        atomic.write_text(str(tmp_path), "x")


def test_stale_temporaries_of_dead_writers_are_removed_and_live_ones_kept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    live = atomic.temp_path(str(tmp_path / "1"), "staging")  # this process: alive
    stale = live.replace(f"-{os.getpid()}@", f"-{dead_pid}@")
    stale_file = atomic.temp_path(str(tmp_path / "grid.png")).replace(f"-{os.getpid()}@", f"-{dead_pid}@")
    elsewhere = str(tmp_path / f".2.staging-{dead_pid}@some-other-host-0123abcd")
    for path in (live, stale, elsewhere):
        os.makedirs(path)
    open(stale_file, "w").close()
    (tmp_path / "1").mkdir()  # a finished version is not a temporary
    removed = atomic.remove_stale(str(tmp_path))
    assert sorted(removed) == sorted([stale, stale_file])
    assert sorted(os.listdir(tmp_path)) == sorted(["1", os.path.basename(live), os.path.basename(elsewhere)])
