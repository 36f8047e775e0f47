"""The registry is tested with file:// URLs only: no test touches the network."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from groundup import i18n
from groundup.data import registry
from groundup.data.registry import Dataset, DownloadError

CONTENT = b"To be, or not to be, that is the question.\n" * 100


@pytest.fixture
def source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A local file registered as dataset 'sample' with its true hash."""
    path = tmp_path / "source.txt"
    path.write_bytes(CONTENT)
    sample = Dataset(path.as_uri(), hashlib.sha256(CONTENT).hexdigest(), "sample.txt")
    monkeypatch.setitem(registry.DATASETS, "sample", sample)
    return path


def test_tinyshakespeare_is_registered_with_its_hash() -> None:
    entry = registry.DATASETS["tinyshakespeare"]
    assert entry.url.endswith("karpathy/char-rnn/master/data/tinyshakespeare/input.txt")
    assert entry.sha256 == "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"


def test_get_downloads_verifies_and_then_uses_the_cache(source: Path, tmp_path: Path) -> None:
    cache, messages = tmp_path / "cache", []
    path = registry.get("sample", cache_dir=cache, log=messages.append)
    assert path == cache / "sample.txt" and path.read_bytes() == CONTENT
    assert messages == [
        f"Downloading sample from {source.as_uri()}",
        f"sample saved to {path} (sha256 verified)",
    ]
    source.unlink()  # from now on only the cache can answer
    assert registry.get("sample", cache_dir=cache, log=messages.append) == path
    assert messages[-1] == f"sample is already in the cache: {path}"
    assert sorted(p.name for p in cache.iterdir()) == ["sample.txt"]


def test_default_cache_is_under_groundup_home(source: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("GROUNDUP_HOME", str(tmp_path / "home"))
    path = registry.get("sample", log=lambda m: None)
    assert path == tmp_path / "home" / "data" / "sample.txt"


def test_wrong_hash_is_discarded_and_keeps_the_cache_clean(tmp_path: Path) -> None:
    fake = tmp_path / "fake.txt"
    fake.write_bytes(b"not shakespeare")
    cache = tmp_path / "cache"
    with pytest.raises(DownloadError) as error:
        registry.get("tinyshakespeare", fake.as_uri(), cache_dir=cache, log=lambda m: None)
    got = hashlib.sha256(b"not shakespeare").hexdigest()
    assert f"has sha256 {got}, expected 86c4e6aa" in str(error.value)
    assert "discarded" in str(error.value)
    assert list(cache.iterdir()) == []  # neither the file nor a temporary one


def test_a_corrupted_cache_file_is_fetched_again(source: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "sample.txt").write_bytes(b"truncated")
    path = registry.get("sample", cache_dir=cache, log=lambda m: None)
    assert path.read_bytes() == CONTENT


def test_unreachable_url_says_offline_in_english_and_german(tmp_path: Path) -> None:
    args = ("tinyshakespeare", "file:///nonexistent/input.txt")
    with pytest.raises(DownloadError, match="Could not download tinyshakespeare from file:///"):
        registry.get(*args, cache_dir=tmp_path, log=lambda m: None)
    i18n.set_lang("de")
    with pytest.raises(DownloadError, match="Internetverbindung"):
        registry.get(*args, cache_dir=tmp_path, log=lambda m: None)
    assert list(tmp_path.iterdir()) == []


def test_unknown_name_lists_the_datasets(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="no dataset 'shakespear'. Datasets: tinyshakespeare"):
        registry.get("shakespear", cache_dir=tmp_path)
