from pathlib import Path

import pytest

from groundup.files import atomic_write, atomic_write_json, atomic_write_text


def test_atomic_write_replaces_the_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "a.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert list(target.parent.iterdir()) == [target]  # no temporary files left behind


def test_a_crash_while_writing_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    atomic_write_json(target, {"step": 1})

    def crash(tmp: Path) -> None:
        tmp.write_text('{"step": 2, "half')
        raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        atomic_write(target, crash)
    assert target.read_text() == '{\n  "step": 1\n}\n'
    assert list(tmp_path.iterdir()) == [target]
