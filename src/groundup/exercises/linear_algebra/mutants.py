"""Planted bugs for the linear_algebra exercise, each a full learner file one check catches.

They start from a correct answer written the way a learner would (through np.linalg.eigh
of the covariance, or through np.linalg.svd of the centred data) and change one thing each.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

EIGH_SOLUTION = """
import numpy as np


def pca(x, k):
    mean = x.mean(axis=0)
    centred = x - mean
    covariance = centred.T @ centred / (len(x) - 1)
    values, vectors = np.linalg.eigh(covariance)
    order = np.argsort(values)[::-1][:k]
    components = vectors[:, order].T
    return components, values[order], centred @ components.T
"""

SVD_SOLUTION = """
import numpy as np


def pca(x, k):
    centred = x - x.mean(axis=0)
    u, s, vt = np.linalg.svd(centred, full_matrices=False)
    components = vt[:k]
    return components, s[:k] ** 2 / (len(x) - 1), centred @ components.T
"""


def _plant(solution: str, old: str, new: str) -> str:
    assert solution.count(old) == 1, f"mutant anchor not found exactly once: {old!r}"
    return solution.replace(old, new)


MUTANTS: list[Mutant] = [
    Mutant(
        "no_centering",
        catches="explained_variance",
        source=_plant(EIGH_SOLUTION, "    centred = x - mean\n", "    centred = x\n"),
        note="uses the raw second moments: the mean dominates the first component",
    ),
    Mutant(
        "variance_divided_by_n",
        catches="explained_variance",
        source=_plant(EIGH_SOLUTION, "/ (len(x) - 1)", "/ len(x)"),
        note="population covariance instead of the sample covariance",
    ),
    Mutant(
        "not_sorted_by_variance",
        catches="explained_variance",
        source=_plant(EIGH_SOLUTION, "np.argsort(values)[::-1][:k]", "np.arange(k)"),
        note="takes eigh's first columns, which belong to the SMALLEST eigenvalues",
    ),
    Mutant(
        "eigenvectors_taken_as_rows",
        catches="components_match",
        source=_plant(EIGH_SOLUTION, "vectors[:, order].T", "vectors[order]"),
        note="rows of the eigenvector matrix instead of its columns",
    ),
    Mutant(
        "projects_uncentered_data",
        catches="projection_matches",
        source=_plant(EIGH_SOLUTION, "centred @ components.T", "x @ components.T"),
        note="projects x instead of x - mean: every score is shifted",
    ),
    Mutant(
        "u_instead_of_v",
        catches="shapes",
        source=_plant(SVD_SOLUTION, "components = vt[:k]", "components = u[:, :k].T"),
        note="the left singular vectors live in example space (n), not feature space (d)",
    ),
    Mutant(
        "svd_variance_not_squared",
        catches="explained_variance",
        source=_plant(SVD_SOLUTION, "s[:k] ** 2 /", "s[:k] /"),
        note="singular values are standard deviations times sqrt(n - 1), not variances",
    ),
    Mutant(
        "components_scaled_by_variance",
        catches="orthonormal_components",
        source=_plant(
            EIGH_SOLUTION,
            "components = vectors[:, order].T",
            "components = (vectors[:, order] * values[order]).T",
        ),  # fmt: skip
        note="eigenvectors scaled by their eigenvalues are no longer unit vectors",
    ),
    Mutant(
        "forgot_to_sort_svd_order_reversed",
        catches="components_match",
        source=_plant(
            SVD_SOLUTION,
            "components = vt[:k]\n    return components, s[:k] ** 2",
            "components = vt[::-1][:k]\n    return components, s[:k] ** 2",
        ),  # fmt: skip
        note="components from the wrong end of Vt while the variances stay right",
    ),
]
