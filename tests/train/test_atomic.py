"""replaced_atomically: the target is replaced only when the write succeeds, and no temporary
file is left behind either way."""

import pytest

from deepnum.train.atomic import replaced_atomically


def test_success_replaces_the_target(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("old\n")
    with replaced_atomically(target) as tmp:
        assert target.read_text() == "old\n"  # untouched while the new file is written
        with open(tmp, "w") as f:
            f.write("new\n")
    assert target.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]


def test_failure_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    target = tmp_path / "model.dnm"
    target.write_text("old\n")
    with pytest.raises(KeyboardInterrupt):
        with replaced_atomically(target) as tmp:
            with open(tmp, "w") as f:
                f.write("half")
            raise KeyboardInterrupt
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["model.dnm"]


def test_suffix_keeps_the_extension(tmp_path):
    with replaced_atomically(tmp_path / "curve.png", suffix=".png") as tmp:
        assert tmp.endswith(".png")
        open(tmp, "wb").close()
    assert (tmp_path / "curve.png").exists()
