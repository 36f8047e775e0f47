"""The linear-algebra lab at the micro preset measures areas and compresses digits with PCA.

Thresholds (measured at seed 0 on 400 digits: first component 14.8 % of the variance, ten
components 74 %, reconstruction MSE 15.9 at k=1 against 4.8 at k=10, nearest-centroid
accuracy 0.57 in the 2-D PCA plane and 0.88 with ten components, chance 0.1): the parallelogram
has area |det A| exactly, the singular values are those of numpy, ten components keep >= 65 %
of the variance, the error falls by at least a factor 2.5, and two components already
classify far above chance (>= 0.45).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from groundup.labs import runner
from groundup.labs.linear_algebra import PRESETS, Config, polygon_area, run
from groundup.labs.runner import LabError


def micro(tmp_path, **overrides) -> Config:
    return runner.make_config(Config, PRESETS, "micro", out=str(tmp_path), quiet=True, **overrides)


def test_micro_measures_the_map_and_compresses_digits(tmp_path) -> None:
    report = run(micro(tmp_path))
    m = report.metrics
    a = np.array([[2.0, 1.0], [1.0, 1.5]])
    assert m["det"] == pytest.approx(2.0) and m["parallelogram_area"] == pytest.approx(2.0)
    s = np.linalg.svd(a, compute_uv=False)
    assert (m["singular_value_1"], m["singular_value_2"]) == pytest.approx(tuple(s))
    assert (m["eigenvalue_1"], m["eigenvalue_2"]) == pytest.approx(tuple(np.linalg.eigvalsh(a)))

    assert (m["examples"], m["features"]) == (400, 64)
    assert (
        0.10 < m["variance_ratio_pc1"] < 0.25 and m["variance_ratio_pc2"] < m["variance_ratio_pc1"]
    )
    assert m["cumulative_variance_at_max_k"] >= 0.65
    assert m["reconstruction_mse_k1"] >= 2.5 * m["reconstruction_mse_max_k"]
    assert m["centroid_accuracy_2d"] >= 0.45
    assert m["centroid_accuracy_max_k"] > m["centroid_accuracy_2d"]

    records = [json.loads(line) for line in report.artifacts["metrics"].read_text().splitlines()]
    assert [r["k"] for r in records] == list(range(1, 11))
    errors = [r["reconstruction_mse"] for r in records]
    assert np.all(np.diff(errors) <= 1e-9)  # more components, never more error
    for name in ("transformation_plot", "scatter_plot", "variance_plot", "error_plot",
                 "reconstruction_plot"):  # fmt: skip
        assert report.artifacts[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_singular_matrix_flattens_the_square(tmp_path) -> None:
    report = run(micro(tmp_path, matrix="1,2,2,4"))
    assert report.metrics["det"] == 0.0
    assert report.metrics["parallelogram_area"] == pytest.approx(0.0, abs=1e-12)
    assert report.metrics["singular_value_2"] == pytest.approx(0.0, abs=1e-6)


def test_polygon_area_of_a_unit_square() -> None:
    assert polygon_area(np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])) == 1.0


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"device": "cuda"}, "CPU"),
        ({"matrix": "1,2,3"}, "matrix"),
        ({"components": 1}, "components"),
        ({"show_k": "0,3"}, "show_k"),
        ({"samples": 5}, "samples"),
        ({"data": "/nonexistent/file.npz"}, ".npz"),
    ],
)
def test_bad_settings_raise_lab_errors(tmp_path, overrides, words: str) -> None:
    with pytest.raises(LabError, match=words):
        run(micro(tmp_path, **overrides))
