"""Lab: see a 2x2 matrix act on the plane, then compress handwritten digits with PCA.

Part 1 draws what a matrix does to the unit square (a parallelogram whose area is |det|)
and to the unit circle (an ellipse whose half-axes are the singular values, pointing along
the left singular vectors), with the eigenvectors, which the matrix only stretches.
Part 2 runs PCA (groundup.math.linear_algebra, no numpy.linalg) on scikit-learn's bundled
digits (8x8 images, 64 pixels): a 2-D scatter coloured by class, the explained-variance
curve, and digits rebuilt from their first k components. A nearest-centroid classifier in
the 2-D PCA plane measures how much class structure two directions keep.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from groundup.i18n import Msg
from groundup.labs import runner
from groundup.labs.runner import LabConfig, LabError, LabReport
from groundup.math.linear_algebra import PCA, det, eigh, svd

LAB = "linear_algebra"


@dataclass
class Config(LabConfig):
    matrix: str = "2,1,1,1.5"  # the 2x2 matrix, row by row: "a,b,c,d" means [[a, b], [c, d]]
    samples: int = 0  # digits used for PCA; 0 = all 1797
    components: int = 40  # largest k for the reconstruction-error curve
    show_k: str = "1,2,5,10,20,40"  # k values drawn in the reconstruction figure


PRESETS: dict[str, dict] = {
    "micro": {"samples": 400, "components": 10, "show_k": "1,3,10"},
    "tiny": {},
    "full": {"components": 64, "show_k": "1,2,5,10,20,40,64"},
}

FIELD_HELP: dict[str, Msg] = {
    "matrix": Msg(
        'the 2x2 matrix drawn in part 1, row by row: "a,b,c,d" is [[a, b], [c, d]]',
        'die 2x2-Matrix aus Teil 1, zeilenweise: "a,b,c,d" steht für [[a, b], [c, d]]',
    ),
    "samples": Msg(
        "digit images used for PCA (0 = all 1797)",
        "Anzahl der Ziffernbilder für die PCA (0 = alle 1797)",
    ),
    "components": Msg(
        "largest number of principal components in the reconstruction-error curve",
        "größte Anzahl von Hauptkomponenten in der Kurve des Rekonstruktionsfehlers",
    ),
    "show_k": Msg(
        "comma-separated component counts shown in the reconstruction figure",
        "kommagetrennte Komponentenzahlen, die die Rekonstruktionsabbildung zeigt",
    ),
}

RECONSTRUCTING = Msg("Rebuilding digits from k components", "Ziffern aus k Komponenten aufbauen")
ONLY_CPU = Msg(
    "This lab runs in NumPy on the CPU only; use --device cpu or auto.",
    "Dieses Lab läuft mit NumPy nur auf der CPU; nehmen Sie --device cpu oder auto.",
)


# ---------------------------------------------------------------- settings and data


def parse_matrix(text: str) -> np.ndarray:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != 4 or not np.all(np.isfinite(values)):
        raise LabError(runner.BAD_SETTING.get(detail=f"matrix={text!r} needs four numbers a,b,c,d"))
    return np.array(values).reshape(2, 2)


def parse_ks(text: str, limit: int) -> list[int]:
    try:
        ks = sorted({int(v) for v in text.split(",")})
    except ValueError:
        ks = []
    if not ks or ks[0] < 1 or ks[-1] > limit:
        raise LabError(
            runner.BAD_SETTING.get(detail=f"show_k={text!r}: integers from 1 to {limit}")
        )
    return ks


def load_data(cfg: Config) -> tuple[np.ndarray, np.ndarray, int]:
    """(X, y, image side): digits by default, or X and y from an .npz file (no images then)."""
    if cfg.data is None:
        from sklearn.datasets import load_digits

        digits = load_digits()
        x, y, side = digits.data.astype(np.float64), digits.target.astype(np.int64), 8
    else:
        x, y = runner.load_labelled_arrays(cfg.data, classes=False)
        side = int(round(np.sqrt(x.shape[1])))
        side = side if side * side == x.shape[1] else 0
    if cfg.samples:
        if not 10 <= cfg.samples <= len(x):
            raise LabError(runner.BAD_SETTING.get(detail=f"samples must be 0 or 10..{len(x)}"))
        keep = np.random.default_rng(cfg.seed).permutation(len(x))[: cfg.samples]
        x, y = x[np.sort(keep)], y[np.sort(keep)]
    return x, y.astype(np.int64), side


# ---------------------------------------------------------------- part 1: a matrix as a map


def polygon_area(points: np.ndarray) -> float:
    """Shoelace formula for a polygon given by its corners in order."""
    x, y = points[:, 0], points[:, 1]
    return float(0.5 * abs(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)))


def plot_transformation(a: np.ndarray, path: Path) -> dict[str, float]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    square = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    image = square @ a.T  # every corner x goes to A x
    angles = np.linspace(0.0, 2.0 * np.pi, 200)
    circle = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    ellipse = circle @ a.T
    u, s, vt = svd(a)
    symmetric = np.allclose(a, a.T)
    figures: dict[str, float] = {
        "det": det(a),
        "parallelogram_area": polygon_area(image),
        "singular_value_1": float(s[0]),
        "singular_value_2": float(s[1]),
    }

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 5), dpi=110)
    left.fill(*square.T, alpha=0.25, color="grey", label="unit square (area 1)")
    left.fill(*image.T, alpha=0.35, color="tab:blue",
              label=f"A · square (area {figures['parallelogram_area']:.3g} = |det A|)")  # fmt: skip
    for column, colour in zip(a.T, ("tab:red", "tab:green"), strict=True):
        left.arrow(0, 0, *column, color=colour, width=0.02, length_includes_head=True)
    left.set_title(f"det A = {figures['det']:.3g}: the factor by which areas scale")

    right.plot(*circle.T, color="grey", label="unit circle")
    right.plot(*ellipse.T, color="tab:blue", label="A · circle")
    for i in range(2):  # A v_i = s_i u_i: the right singular vector lands on a half-axis
        right.arrow(0, 0, *vt[i], color="tab:orange", width=0.015, length_includes_head=True,
                    label="right singular vectors v" if i == 0 else None)  # fmt: skip
        right.arrow(0, 0, *(s[i] * u[:, i]), color="tab:purple", width=0.015,
                    length_includes_head=True, label="s · u (ellipse axes)" if i == 0 else None)  # fmt: skip
    if symmetric:  # a real orthonormal eigenbasis exists for symmetric matrices
        values, vectors = eigh(a)
        for i in range(2):
            end = values[i] * vectors[:, i]
            right.plot([-end[0], end[0]], [-end[1], end[1]], "k--", linewidth=1,
                       label="eigenvectors · eigenvalue" if i == 0 else None)  # fmt: skip
            figures[f"eigenvalue_{i + 1}"] = float(values[i])
    right.set_title("singular directions" + (" and eigenvectors" if symmetric else ""))
    for ax in (left, right):
        ax.set_aspect("equal")
        ax.grid(alpha=0.3)
        ax.axhline(0, color="black", linewidth=0.5)
        ax.axvline(0, color="black", linewidth=0.5)
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return figures


# ---------------------------------------------------------------- part 2: PCA of the digits


def nearest_centroid_accuracy(z: np.ndarray, y: np.ndarray) -> float:
    """Accuracy of 'the class whose mean is closest' in the projected space (fit = evaluate)."""
    classes = np.unique(y)
    centroids = np.stack([z[y == c].mean(axis=0) for c in classes])
    distances = ((z[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)
    return float(np.mean(classes[distances.argmin(axis=1)] == y))


def plot_scatter(z: np.ndarray, y: np.ndarray, ratio: np.ndarray, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 6), dpi=110)
    points = ax.scatter(z[:, 0], z[:, 1], c=y, cmap="tab10", s=8, alpha=0.8)
    fig.colorbar(points, ax=ax, label="digit")
    ax.set_xlabel(f"PC 1 ({ratio[0]:.1%} of the variance)")
    ax.set_ylabel(f"PC 2 ({ratio[1]:.1%} of the variance)")
    ax.set_title("digits projected on their first two principal components")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_variance(ratio: np.ndarray, path: Path) -> None:
    import matplotlib.pyplot as plt

    ks = np.arange(1, len(ratio) + 1)
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    ax.bar(ks, ratio, color="tab:blue", alpha=0.6, label="explained variance ratio")
    ax.plot(ks, np.cumsum(ratio), color="tab:red", marker="o", markersize=3, label="cumulative")
    ax.axhline(0.9, color="grey", linestyle="--", linewidth=1, label="90 %")
    ax.set_xlabel("component")
    ax.set_ylim(0, 1.02)
    ax.set_title("how much of the variance the first k components keep")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_reconstructions(
    x: np.ndarray, rebuilt: dict[int, np.ndarray], side: int, path: Path
) -> None:
    import matplotlib.pyplot as plt

    rows, columns = len(x), len(rebuilt) + 1
    fig, axes = plt.subplots(rows, columns, figsize=(1.2 * columns, 1.2 * rows), dpi=110)
    axes = np.atleast_2d(axes)
    for r in range(rows):
        images = [("original", x[r])] + [(f"k={k}", z[r]) for k, z in rebuilt.items()]
        for c, (title, image) in enumerate(images):
            axes[r, c].imshow(image.reshape(side, side), cmap="gray_r", vmin=0, vmax=16)
            axes[r, c].set_xticks([])
            axes[r, c].set_yticks([])
            if r == 0:
                axes[r, c].set_title(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# ---------------------------------------------------------------- the run


def run(cfg: Config) -> LabReport:
    if cfg.device not in ("auto", "cpu"):
        raise LabError(ONLY_CPU.get())
    timer = runner.Timer()
    runner.seed_everything(cfg.seed)
    a = parse_matrix(cfg.matrix)
    x, y, side = load_data(cfg)
    limit = min(x.shape[1], len(x) - 1)
    if not 2 <= cfg.components <= limit:
        raise LabError(runner.BAD_SETTING.get(detail=f"components must be between 2 and {limit}"))
    ks = parse_ks(cfg.show_k, cfg.components)
    out = runner.out_dir(cfg, LAB)
    runner.save_config(cfg, out)

    import matplotlib

    matplotlib.use("Agg")
    metrics: dict[str, float | int | str] = {}
    artifacts = {"transformation_plot": out / "transformation.png"}
    metrics.update(plot_transformation(a, artifacts["transformation_plot"]))

    # one fit with all components; the first k rows of it are the k-component PCA
    pca = PCA(cfg.components).fit(x)
    ratio = pca.explained_variance_ratio_
    z = pca.transform(x)
    log = runner.MetricsLog(out / "metrics.jsonl")
    errors: list[float] = []
    rebuilt: dict[int, np.ndarray] = {}
    shown = np.array([int(np.flatnonzero(y == c)[0]) for c in np.unique(y)[:10]])
    with runner.progress(cfg.components, RECONSTRUCTING.get(), cfg.quiet) as bar:
        for k in range(1, cfg.components + 1):
            approx = z[:, :k] @ pca.components_[:k] + pca.mean_
            errors.append(float(np.mean((approx - x) ** 2)))
            log.log(k=k, explained_variance_ratio=float(ratio[k - 1]),
                    cumulative=float(ratio[:k].sum()), reconstruction_mse=errors[-1])  # fmt: skip
            if k in ks:
                rebuilt[k] = approx[shown]
            bar.update(info=f"k {k} mse {errors[-1]:.3g}")
    log.close()

    artifacts["scatter_plot"] = out / "pca_scatter.png"
    artifacts["variance_plot"] = out / "explained_variance.png"
    artifacts["error_plot"] = out / "reconstruction_error.png"
    plot_scatter(z, y, ratio, artifacts["scatter_plot"])
    plot_variance(ratio, artifacts["variance_plot"])
    ks_all = list(range(1, cfg.components + 1))
    runner.save_line_plot(artifacts["error_plot"], {"mean squared error": (ks_all, errors)},
                          "reconstruction error against k", "components k", "MSE per pixel")  # fmt: skip
    if side:
        artifacts["reconstruction_plot"] = out / "reconstructions.png"
        plot_reconstructions(x[shown], rebuilt, side, artifacts["reconstruction_plot"])
    artifacts["metrics"] = out / "metrics.jsonl"

    cumulative = np.cumsum(ratio)
    reaching = np.flatnonzero(cumulative >= 0.9)
    metrics.update(
        examples=len(x),
        features=x.shape[1],
        variance_ratio_pc1=float(ratio[0]),
        variance_ratio_pc2=float(ratio[1]),
        cumulative_variance_at_max_k=float(cumulative[-1]),
        components_for_90_percent=int(reaching[0]) + 1 if reaching.size else "more than shown",
        reconstruction_mse_k1=errors[0],
        reconstruction_mse_max_k=errors[-1],
        centroid_accuracy_2d=nearest_centroid_accuracy(z[:, :2], y),
        centroid_accuracy_max_k=nearest_centroid_accuracy(z, y),
    )
    text = "k  cumulative variance  reconstruction MSE\n" + "\n".join(
        f"{k:<3}{cumulative[k - 1]:>8.3f}{errors[k - 1]:>20.3f}" for k in ks
    )
    return LabReport(LAB, out, metrics, artifacts, text=text, seconds=timer.seconds)
