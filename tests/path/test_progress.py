from pathlib import Path

from groundup.path.progress import ProgressStore


def test_records_attempts_and_first_pass(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path / "p.sqlite3")
    assert store.summary() == {}
    store.record("attention", False, 3, 6, "aa")
    assert store.passed() == set()
    store.record("attention", True, 6, 6, "bb")
    store.record("attention", True, 6, 6, "cc")
    store.record("gpt", False, 0, 7, "dd")
    summary = store.summary()
    assert summary["attention"].attempts == 3
    assert summary["attention"].passed_at is not None
    assert summary["gpt"].passed_at is None
    assert store.passed() == {"attention"}


def test_default_location_follows_groundup_home(isolated_home: Path) -> None:
    store = ProgressStore()
    store.record("autograd", True, 5, 5, "x")
    assert (isolated_home / "progress.sqlite3").exists()
