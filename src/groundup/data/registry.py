"""`groundup data get NAME`: download a known dataset once, check it, keep it in the cache.

Each dataset has a URL and the sha256 of the exact file. The download goes to a temporary
file in the cache folder; only a file whose hash matches is renamed into place, so the cache
never holds a partial or altered file. Offline, the error says so and suggests --data.
"""

from __future__ import annotations

import hashlib
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from groundup.files import atomic_write, groundup_home
from groundup.i18n import t

CHUNK = 1 << 16


@dataclass(frozen=True)
class Dataset:
    url: str
    sha256: str
    filename: str


DATASETS: dict[str, Dataset] = {
    "tinyshakespeare": Dataset(
        url="https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
        sha256="86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
        filename="tinyshakespeare.txt",
    ),
}


class DownloadError(Exception):
    """Unknown name, no connection, or a file with the wrong hash; the message says which."""


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def get(
    name: str,
    url_override: str | None = None,
    cache_dir: str | Path | None = None,
    log: Callable[[str], None] = _stderr,
) -> Path:
    """The path of dataset `name` in the cache, downloaded first if it is not there yet."""
    if name not in DATASETS:
        raise DownloadError(t("data.unknown", name=name, names=", ".join(sorted(DATASETS))))
    dataset = DATASETS[name]
    target = Path(cache_dir) if cache_dir is not None else groundup_home() / "data"
    target = target / dataset.filename
    if target.is_file() and sha256_of(target) == dataset.sha256:
        log(t("data.cached", name=name, file=target))
        return target
    url = url_override or dataset.url
    log(t("data.downloading", name=name, url=url))
    atomic_write(target, lambda tmp: _download(name, url, dataset.sha256, tmp))
    log(t("data.done", name=name, file=target))
    return target


def _download(name: str, url: str, expected: str, tmp: Path) -> None:
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(tmp, "wb") as out:
            while chunk := response.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
    except (urllib.error.URLError, OSError, ValueError) as e:
        detail = getattr(e, "reason", None) or e
        raise DownloadError(t("data.offline", name=name, url=url, detail=detail)) from None
    if digest.hexdigest() != expected:
        # raising here makes atomic_write delete the temporary file; the cache stays as it was
        raise DownloadError(
            t("data.bad_hash", name=name, got=digest.hexdigest(), expected=expected)
        )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
