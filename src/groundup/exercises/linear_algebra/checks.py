"""Checks for the linear_algebra exercise, against sklearn.decomposition.PCA.

The data are drawn with fixed seeds: more examples than features (so that U and V have
different shapes), clearly different variances per direction (so every component is
unique up to sign) and a mean far from zero (so forgetting to centre changes the answer).
Components and projections are compared after flipping each to sklearn's sign; values
agree within atol 1e-8 (both sides solve the same well-conditioned problem in float64).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
from sklearn.decomposition import PCA

from groundup.exercises.checking import (
    Check,
    Mismatch,
    assert_close,
    assert_shape,
    call,
    describe,
    require,
)
from groundup.i18n import Msg

FUNCTIONS = ["pca"]

REFERENCE = """from groundup.math.linear_algebra import PCA


def pca(x, k):
    model = PCA(k).fit(x)
    return model.components_, model.explained_variance_, model.transform(x)
"""

TOL = {"atol": 1e-8, "rtol": 1e-7}
CASES = ((0, 60, 6, 3), (1, 40, 5, 5), (2, 80, 8, 2))  # seed, n, d, k


def make_data(seed: int, n: int, d: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rotation, _ = np.linalg.qr(rng.normal(size=(d, d)))
    scales = np.linspace(5.0, 0.5, d)
    return (rng.normal(size=(n, d)) * scales) @ rotation.T + rng.uniform(5.0, 10.0, d)


def learner_pca(module: ModuleType, seed: int, n: int, d: int, k: int) -> tuple[Any, ...]:
    fn = require(module, "pca")
    x = make_data(seed, n, d)
    text = f"pca(x, k={k}) for x of shape ({n}, {d}), seed {seed}"
    compared = Msg(text, text)
    got = call(compared, fn, x.copy(), k)
    if not isinstance(got, tuple | list) or len(got) != 3:
        raise Mismatch(compared, expected="(components, explained_variance, projected)",
                       got=describe(got))  # fmt: skip
    components, variance, projected = (np.asarray(v, dtype=np.float64) for v in got)
    return x, text, components, variance, projected


def sign_flips(rows: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """+1 or -1 per row: the sign that makes `rows` point like `reference`."""
    dots = np.sum(rows * reference, axis=1)
    return np.where(dots < 0, -1.0, 1.0)


# ---------------------------------------------------------------- the checks, basic to subtle


def defines_functions(module: ModuleType) -> None:
    for name in FUNCTIONS:
        require(module, name)


def shapes(module: ModuleType) -> None:
    for seed, n, d, k in CASES:
        _, text, components, variance, projected = learner_pca(module, seed, n, d, k)
        assert_shape(Msg(f"{text}: components", f"{text}: components"), components, (k, d))
        assert_shape(Msg(f"{text}: explained_variance", f"{text}: explained_variance"),
                     variance, (k,))  # fmt: skip
        assert_shape(Msg(f"{text}: projected", f"{text}: projected"), projected, (n, k))


def orthonormal_components(module: ModuleType) -> None:
    for seed, n, d, k in CASES:
        _, text, components, _, _ = learner_pca(module, seed, n, d, k)
        label = f"{text}: components @ components.T (rows must be orthonormal)"
        assert_close(Msg(label, label), components @ components.T, np.eye(k), **TOL)


def explained_variance(module: ModuleType) -> None:
    for seed, n, d, k in CASES:
        x, text, _, variance, _ = learner_pca(module, seed, n, d, k)
        label = f"{text}: explained_variance"
        assert_close(Msg(label, label), variance, PCA(k).fit(x).explained_variance_, **TOL)


def components_match(module: ModuleType) -> None:
    for seed, n, d, k in CASES:
        x, text, components, _, _ = learner_pca(module, seed, n, d, k)
        want = PCA(k).fit(x).components_
        label = f"{text}: components (each row's sign aligned with sklearn's)"
        flipped = components * sign_flips(components, want)[:, None]
        assert_close(Msg(label, label), flipped, want, **TOL)


def projection_matches(module: ModuleType) -> None:
    for seed, n, d, k in CASES:
        x, text, components, _, projected = learner_pca(module, seed, n, d, k)
        reference = PCA(k).fit(x)
        signs = sign_flips(components, reference.components_)  # the learner's own signs
        label = f"{text}: projected (signs as in your components)"
        assert_close(Msg(label, label), projected * signs, reference.transform(x), **TOL)


CHECKS: list[Check] = [
    Check(
        "defines_functions",
        Msg("your file defines pca", "Ihre Datei definiert pca"),
        Msg(
            "Keep the function name from the stub.",
            "Behalten Sie den Funktionsnamen aus der Vorlage.",
        ),
        defines_functions,
    ),
    Check(
        "shapes",
        Msg(
            "components (k, d), explained_variance (k,), projected (n, k)",
            "components (k, d), explained_variance (k,), projected (n, k)",
        ),
        Msg(
            "The components are the rows of Vt (or the eigenvectors of the covariance, which "
            "eigh returns as COLUMNS: transpose them). U from the SVD has n rows, not d.",
            "Die Komponenten sind die Zeilen von Vt (oder die Eigenvektoren der Kovarianz, die "
            "eigh als SPALTEN liefert: transponieren). U aus der SVD hat n Zeilen, nicht d.",
        ),
        shapes,
    ),  # fmt: skip
    Check(
        "orthonormal_components",
        Msg("the components are orthonormal rows", "die Komponenten sind orthonormale Zeilen"),
        Msg(
            "Eigenvectors of a symmetric matrix are orthonormal; did you rescale them, or "
            "take rows of the eigenvector matrix instead of columns?",
            "Eigenvektoren einer symmetrischen Matrix sind orthonormal; haben Sie sie "
            "skaliert oder Zeilen statt Spalten der Eigenvektormatrix genommen?",
        ),
        orthonormal_components,
    ),  # fmt: skip
    Check(
        "explained_variance",
        Msg("explained_variance equals sklearn's", "explained_variance stimmt mit sklearn überein"),
        Msg(
            "Centre the data first, divide by n - 1 (not n), and sort the eigenvalues from "
            "largest to smallest: eigh returns them ascending.",
            "Zentrieren Sie zuerst, teilen Sie durch n - 1 (nicht n) und sortieren Sie die "
            "Eigenwerte absteigend: eigh liefert sie aufsteigend.",
        ),
        explained_variance,
    ),  # fmt: skip
    Check(
        "components_match",
        Msg(
            "the components equal sklearn's up to sign",
            "die Komponenten stimmen bis aufs Vorzeichen mit sklearn überein",
        ),
        Msg(
            "Component i is the eigenvector of the i-th largest eigenvalue: column i of eigh's "
            "matrix after sorting, returned as row i.",
            "Komponente i ist der Eigenvektor zum i-größten Eigenwert: Spalte i der "
            "eigh-Matrix nach dem Sortieren, zurückgegeben als Zeile i.",
        ),
        components_match,
    ),  # fmt: skip
    Check(
        "projection_matches",
        Msg(
            "projected equals sklearn's transform (same signs as your components)",
            "projected stimmt mit sklearns transform überein (Vorzeichen wie Ihre Komponenten)",
        ),
        Msg(
            "Project the CENTRED data: (x - mean) @ components.T.",
            "Projizieren Sie die ZENTRIERTEN Daten: (x - mean) @ components.T.",
        ),
        projection_matches,
    ),  # fmt: skip
]
