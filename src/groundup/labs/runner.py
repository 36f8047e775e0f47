"""What every lab shares: config and presets, device choice, output folder, progress, summary."""

from __future__ import annotations

import dataclasses
import json
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from groundup.files import atomic_write_text
from groundup.i18n import Msg, t

PRESET_NAMES = ("micro", "tiny", "full")


@dataclass
class LabConfig:
    preset: str = "tiny"
    seed: int = 0
    device: str = "auto"
    out: str | None = None  # default: runs/<lab>-<preset>
    data: str | None = None  # a file to use instead of the embedded data
    quiet: bool = False  # no progress bars (tests)


@dataclass
class LabReport:
    lab: str
    out_dir: Path
    metrics: dict[str, float | int | str]  # the figures shown in the summary
    artifacts: dict[str, Path] = field(default_factory=dict)  # name -> file
    text: str = ""  # e.g. a generated sample, printed under the summary
    seconds: float = 0.0


class LabError(Exception):
    """A lab cannot go on (bad data, missing device): shown to the learner without a traceback."""


def make_config(
    config_cls: type[LabConfig], presets: dict[str, dict[str, Any]], preset: str, **overrides: Any
) -> LabConfig:
    """The preset's values, then explicit overrides (None means 'not given')."""
    if preset not in PRESET_NAMES:
        raise LabError(
            t("error.bad_value", option="preset", value=preset, kind=" | ".join(PRESET_NAMES))
        )
    values: dict[str, Any] = {**presets.get(preset, {}), "preset": preset}
    values.update({k: v for k, v in overrides.items() if v is not None})
    return config_cls(**values)


BAD_SETTING = Msg("Invalid setting: {detail}", "Ungültige Einstellung: {detail}")
BAD_ARRAYS = Msg(
    "{file} must be a .npz file with an array X (examples, features) and integer labels y "
    "(examples,): {detail}",
    "{file} muss eine .npz-Datei mit einem Array X (Beispiele, Merkmale) und ganzzahligen "
    "Labels y (Beispiele,) sein: {detail}",
)


def load_labelled_arrays(path: str | Path, classes: bool = True) -> tuple[Any, Any]:
    """X (float64, 2-D) and integer labels y from a .npz file, checked, or a clear LabError.

    With `classes`, the labels must be class indices: >= 0, at least two different ones.
    """
    import numpy as np

    try:
        with np.load(path) as archive:
            x, y = np.asarray(archive["X"], dtype=np.float64), np.asarray(archive["y"])
    except (OSError, KeyError, ValueError) as error:
        raise LabError(BAD_ARRAYS.get(file=path, detail=error)) from None
    if x.ndim != 2 or y.shape != (len(x),) or not np.issubdtype(y.dtype, np.integer):
        raise LabError(BAD_ARRAYS.get(file=path, detail=f"got X {x.shape}, y {y.shape} {y.dtype}"))
    if classes and (len(np.unique(y)) < 2 or y.min() < 0):
        detail = "labels must be >= 0, at least two classes"
        raise LabError(BAD_ARRAYS.get(file=path, detail=detail))
    return x, y.astype(np.int64)


def load_text(data: str | Path | None, min_chars: int = 1, max_chars: int = 0) -> tuple[str, str]:
    """(text, where it came from): the embedded corpus without --data, else the user's UTF-8
    file, whose problems (missing, not UTF-8, too short) become a LabError. max_chars > 0
    keeps only the first max_chars characters (after the min_chars check)."""
    if data is None:
        from groundup.data.corpus import load_corpus

        text, source = load_corpus(), "the embedded corpus"
    else:
        from groundup.data.text import TextFileError, read_text  # imports torch: when needed

        try:
            text, source = read_text(data, min_chars=min_chars), str(data)
        except TextFileError as error:
            raise LabError(str(error)) from None
    return (text[:max_chars] if max_chars else text), source


def seed_everything(seed: int) -> None:
    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:
        pass


def resolve_device(name: str) -> str:
    import torch

    if name == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    available = {
        "cpu": True,
        "cuda": torch.cuda.is_available(),
        "mps": getattr(torch.backends, "mps", None) is not None
        and torch.backends.mps.is_available(),
    }
    if not available.get(name, False):
        raise LabError(t("run.device_unavailable", device=name))
    return name


def default_out(cfg: LabConfig, lab: str) -> Path:
    return Path(cfg.out) if cfg.out else Path("runs") / f"{lab}-{cfg.preset}"


@contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run small-tensor work on one CPU thread, then restore the setting.

    Tensors of a few thousand elements gain nothing from more threads, and on a busy
    machine the threads mostly wait for each other (measured: 5-11x slower with two).
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def out_dir(cfg: LabConfig, lab: str) -> Path:
    path = default_out(cfg, lab)
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_config(cfg: LabConfig, path: Path) -> None:
    atomic_write_text(path / "config.json", json.dumps(dataclasses.asdict(cfg), indent=2) + "\n")


def start(cfg: LabConfig, lab: str) -> Path:
    """What every lab does first: seed all generators, create the output folder and record
    the settings in it. Returns the folder."""
    seed_everything(cfg.seed)
    out = out_dir(cfg, lab)
    save_config(cfg, out)
    return out


class MetricsLog:
    """Append-only JSONL of training metrics; one line per record, flushed at once."""

    def __init__(self, path: Path, append: bool = False) -> None:
        self.path = path
        # kept open for the whole run so every record is flushed as it happens
        self._file = open(path, "a" if append else "w", encoding="utf-8")  # noqa: SIM115

    def log(self, **record: Any) -> None:
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


@contextmanager
def progress(total: int, description: str, quiet: bool = False) -> Iterator[Any]:
    """A rich progress bar; `bar.update(advance=1, info="loss 1.23 | 4.1k tok/s")`."""
    if quiet:
        yield _SilentBar()
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[info]}"),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(description, total=total, info="")
        yield _Bar(bar, task)


class _Bar:
    def __init__(self, bar: Progress, task: Any) -> None:
        self.bar, self.task = bar, task

    def update(
        self, advance: int = 1, info: str | None = None, completed: int | None = None
    ) -> None:
        kwargs: dict[str, Any] = (
            {"advance": advance} if completed is None else {"completed": completed}
        )
        if info is not None:
            kwargs["info"] = info
        self.bar.update(self.task, **kwargs)


class _SilentBar:
    def update(
        self, advance: int = 1, info: str | None = None, completed: int | None = None
    ) -> None:
        pass


class Timer:
    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.start


def print_summary(report: LabReport, console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title=t("run.summary", lab=report.lab), show_header=False, title_justify="left")
    for name, value in report.metrics.items():
        table.add_row(name, f"{value:.4g}" if isinstance(value, float) else str(value))
    for name, path in report.artifacts.items():
        table.add_row(f"{t('run.artifacts')}: {name}", str(path))
    console.print(table)
    if report.text:
        console.print(report.text, markup=False, highlight=False)
    console.print(t("run.seconds", seconds=report.seconds))


def pyplot() -> Any:
    """matplotlib.pyplot on the file-only Agg backend, imported on first use: labs run on
    servers without a display, and importing matplotlib costs a second they may not need."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_line_plot(
    path: Path,
    series: dict[str, tuple[list[float], list[float]]],
    title: str,
    xlabel: str,
    ylabel: str,
    logy: bool = False,
) -> Path:
    """Plot named (x, y) series into one PNG (matplotlib without a display)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    for name, (xs, ys) in series.items():
        ax.plot(xs, ys, label=name, marker="o" if len(xs) < 30 else None, markersize=3)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
