"""Shipping submissions to Dask workers: what is packed, and what is refused."""

from pathlib import Path

import pytest

from grader.grading import distributed
from grader.grading.distributed import pack, unpack


def test_a_folder_travels_whole_without_caches_and_lands_under_its_own_name(
    tmp_path: Path,
) -> None:
    source = tmp_path / "counter-lab-ada"
    (source / "src").mkdir(parents=True)
    (source / "src" / "counter.py").write_text("x = 1\n")
    (source / "__pycache__").mkdir()
    (source / "__pycache__" / "counter.cpython-311.pyc").write_bytes(b"\0")
    files = pack(source)
    assert files == {"counter-lab-ada/src/counter.py": b"x = 1\n"}
    unpack(files, tmp_path / "worker")
    assert (tmp_path / "worker" / "counter-lab-ada" / "src" / "counter.py").read_text() == "x = 1\n"


def test_a_submission_over_the_size_cap_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(distributed, "MAX_SUBMISSION_BYTES", 1024)
    big = tmp_path / "big.py"
    with open(big, "wb") as handle:
        handle.truncate(4096)  # sparse: nothing to read, only its size
    with pytest.raises(ValueError, match="larger than"):
        pack(big)


def test_unpacking_refuses_paths_that_climb_out(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="outside"):
        unpack({"../evil.py": b"x"}, tmp_path / "worker")
