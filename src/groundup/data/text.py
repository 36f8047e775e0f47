"""Plain text for character-level language models: read, tokenize, split, sample batches.

The recipe is nanoGPT's `shakespeare_char`: every distinct character is a token, the first
90 % of the text is for training and the last 10 % for validation, and a batch is a set of
random windows of block_size + 1 characters, the input and the same window shifted by one.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import Tensor

from groundup.files import atomic_write_json
from groundup.i18n import t


class TextFileError(ValueError):
    """A text file that cannot be used: missing, not UTF-8, or too short. The message says
    which, in the learner's language."""


def read_text(path: str | Path, min_chars: int = 1) -> str:
    path = Path(path)
    if path.is_dir():
        raise TextFileError(t("data.is_folder", file=path))
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise TextFileError(f"{path}: file not found") from None
    except OSError as e:
        raise TextFileError(f"{path}: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise TextFileError(t("data.not_text", file=path, pos=e.start)) from None
    if len(text) < min_chars:
        raise TextFileError(t("data.too_small", file=path, n=len(text), need=min_chars))
    return text


class CharTokenizer:
    """One token per distinct character; ids follow the sorted order of the characters."""

    def __init__(self, chars: list[str]) -> None:
        if len(set(chars)) != len(chars):
            raise ValueError("characters must be distinct")
        self.chars = list(chars)
        self.stoi = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def from_text(cls, text: str) -> CharTokenizer:
        return cls(sorted(set(text)))

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> list[int]:
        try:
            return [self.stoi[c] for c in text]
        except KeyError as e:
            raise ValueError(f"character {e.args[0]!r} is not in the vocabulary") from None

    def decode(self, ids: list[int] | Tensor) -> str:
        if isinstance(ids, Tensor):
            ids = ids.tolist()
        return "".join(self.chars[i] for i in ids)

    def save(self, path: str | Path) -> Path:
        return atomic_write_json(path, {"type": "char", "chars": self.chars})

    @classmethod
    def load(cls, path: str | Path) -> CharTokenizer:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(data["chars"])


def train_val_split(data: Tensor, train_fraction: float = 0.9) -> tuple[Tensor, Tensor]:
    """The first train_fraction of the sequence for training, the rest for validation.

    Not shuffled: neighbouring windows overlap, so a random split would leak validation
    text into training."""
    n = int(train_fraction * len(data))
    return data[:n], data[n:]


def get_batch(
    data: Tensor, block_size: int, batch_size: int, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor]:
    """Random windows: x (B, T) and y (B, T) with y[b, t] = x[b, t + 1], the next token."""
    if len(data) <= block_size:
        raise ValueError(f"{len(data)} tokens are too few for windows of {block_size + 1}")
    start = torch.randint(len(data) - block_size, (batch_size,), generator=generator)
    windows = data.unfold(0, block_size + 1, 1)[start]  # a view, then one gather: no loop
    return windows[:, :-1].long(), windows[:, 1:].long()
