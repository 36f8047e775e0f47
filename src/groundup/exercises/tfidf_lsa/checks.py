"""Checks for the tfidf_lsa exercise, against groundup.text.vectorize (equal to
scikit-learn's TfidfVectorizer), groundup.text.lsa.cosine_similarity and
groundup.text.classify.loss_and_gradient (equal to torch autograd).

Count matrices are random and sparse-ish, with a term in every document, terms in no
document and an empty document, so the smoothing, the "+ 1" and the zero rows all show.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np
import scipy.sparse as sp

from groundup.exercises.checking import (
    Check,
    Mismatch,
    assert_close,
    assert_shape,
    call,
    check,
    require,
)
from groundup.i18n import Msg
from groundup.text.classify import loss_and_gradient
from groundup.text.lsa import cosine_similarity
from groundup.text.vectorize import normalize_rows, smooth_idf

FUNCTIONS = ["idf", "tfidf", "cosine_similarity", "logistic_gradient"]

REFERENCE = """import numpy as np
import scipy.sparse as sp

from groundup.text.classify import loss_and_gradient
from groundup.text.lsa import cosine_similarity
from groundup.text.vectorize import normalize_rows, smooth_idf


def idf(df, n_documents):
    return smooth_idf(df, n_documents)


def tfidf(counts):
    df = (np.asarray(counts) > 0).sum(axis=0)
    weights = np.asarray(counts, dtype=float) * smooth_idf(df, len(counts))
    return normalize_rows(sp.csr_matrix(weights), "l2").toarray()


def logistic_gradient(w, b, x, y, c):
    _, grad_w, grad_b = loss_and_gradient(np.asarray(w, float), np.float64(b), x, y, c)
    return grad_w, float(grad_b)
"""


def count_matrix(seed: int, n: int = 9, terms: int = 12) -> np.ndarray:
    """Random counts with a term in every document, a term in none and an empty document."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(0.6, (n, terms)) * (rng.random((n, terms)) < 0.6)
    counts[:, 0] = rng.integers(1, 4, n)  # in every document
    counts[:, -1] = 0  # in no document
    counts[n // 2] = 0  # an empty document
    return counts


def reference_tfidf(counts: np.ndarray) -> np.ndarray:
    df = (counts > 0).sum(axis=0)
    return normalize_rows(sp.csr_matrix(counts * smooth_idf(df, len(counts))), "l2").toarray()


# ---------------------------------------------------------------- the checks, basic to subtle


def defines_functions(module: ModuleType) -> None:
    for name in FUNCTIONS:
        require(module, name)


def idf_values(module: ModuleType) -> None:
    fn = require(module, "idf")
    for df, n in [([1, 2, 3, 4], 4), ([5, 1, 10, 7, 3], 10), ([0, 1], 1)]:
        compared = Msg(f"idf(df={df}, n_documents={n})", f"idf(df={df}, n_documents={n})")
        got = call(compared, fn, np.array(df), n)
        assert_close(compared, got, smooth_idf(np.array(df), n), atol=1e-10)


def tfidf_shape_and_unit_rows(module: ModuleType) -> None:
    fn = require(module, "tfidf")
    counts = count_matrix(0)
    compared = Msg("tfidf(counts): shape and row lengths", "tfidf(counts): Form und Zeilenlängen")
    got = call(compared, fn, counts.copy())
    assert_shape(compared, got, counts.shape)
    lengths = np.linalg.norm(np.asarray(got, dtype=float), axis=1)
    expected = np.where(counts.sum(axis=1) > 0, 1.0, 0.0)  # unit rows, the empty one stays 0
    assert_close(compared, lengths, expected, atol=1e-9)


def tfidf_matches_sklearn(module: ModuleType) -> None:
    fn = require(module, "tfidf")
    for seed in range(4):
        counts = count_matrix(seed, n=6 + 3 * seed, terms=10 + seed)
        compared = Msg(f"tfidf(counts) for random counts (seed {seed})",
                       f"tfidf(counts) für zufällige Zählungen (Seed {seed})")  # fmt: skip
        assert_close(compared, call(compared, fn, counts.copy()), reference_tfidf(counts),
                     atol=1e-10)  # fmt: skip


def cosine_matches(module: ModuleType) -> None:
    fn = require(module, "cosine_similarity")
    rng = np.random.default_rng(1)
    cases = [(rng.standard_normal((4, 6)), rng.standard_normal((5, 6))),
             (rng.random((3, 8)) * 10, rng.random((2, 8)) * 0.1)]  # fmt: skip
    a, b = rng.standard_normal((5, 4)), rng.standard_normal((3, 4))
    a[1], b[2] = 0.0, 0.0  # zero rows: similarity 0, not NaN
    cases.append((a, b))
    for a, b in cases:
        compared = Msg(f"cosine_similarity(a {a.shape}, b {b.shape})",
                       f"cosine_similarity(a {a.shape}, b {b.shape})")  # fmt: skip
        got = call(compared, fn, a.copy(), b.copy())
        assert_close(compared, got, cosine_similarity(a, b), atol=1e-10)


def gradient_matches(module: ModuleType) -> None:
    fn = require(module, "logistic_gradient")
    rng = np.random.default_rng(2)
    for n, d, c in [(8, 3, 1.0), (20, 5, 0.3), (13, 7, 5.0)]:
        x, w = rng.standard_normal((n, d)), rng.standard_normal(d)
        y, b = rng.integers(0, 2, n), float(rng.standard_normal())
        compared = Msg(f"logistic_gradient for n={n}, d={d}, c={c}",
                       f"logistic_gradient für n={n}, d={d}, c={c}")  # fmt: skip
        got = call(compared, fn, w.copy(), b, x, y, c)
        if not (isinstance(got, tuple | list) and len(got) == 2):
            raise Mismatch(compared, expected="a pair (grad_w, grad_b)", got=repr(type(got)))
        _, grad_w, grad_b = loss_and_gradient(w, np.float64(b), x, y, c)
        assert_close(compared, got[0], grad_w, atol=1e-10)
        assert_close(compared, got[1], grad_b, atol=1e-10)


def bias_is_not_penalised(module: ModuleType) -> None:
    """With all-zero features only the bias matters: its gradient must be mean(p - y), for
    any c, however large the bias."""
    fn = require(module, "logistic_gradient")
    x, y = np.zeros((6, 2)), np.array([1, 0, 1, 1, 0, 1])
    for b, c in [(3.0, 0.01), (-2.0, 0.1)]:
        compared = Msg(f"logistic_gradient(w=0, b={b}, x=0, c={c})[1]",
                       f"logistic_gradient(w=0, b={b}, x=0, c={c})[1]")  # fmt: skip
        got = call(compared, fn, np.zeros(2), b, x, y, c)
        expected = float(np.mean(1 / (1 + np.exp(-b)) - y))
        assert_close(compared, got[1], expected, atol=1e-10)


def penalty_scales_with_c_and_n(module: ModuleType) -> None:
    """Where the data are explained perfectly the gradient is the penalty w / (c n) alone."""
    fn = require(module, "logistic_gradient")
    w = np.array([2.0, -1.0, 0.5])
    for n, c in [(4, 0.5), (10, 2.0)]:
        x = np.zeros((n, 3))
        x[:, 0] = 50.0  # z = 100: p = 1 to machine precision
        compared = Msg(f"logistic_gradient where p = y, n={n}, c={c}",
                       f"logistic_gradient mit p = y, n={n}, c={c}")  # fmt: skip
        got = call(compared, fn, w.copy(), 0.0, x, np.ones(n, dtype=int), c)
        assert_close(compared, got[0], w / (c * n), atol=1e-12)


CHECKS: list[Check] = [
    check("defines_functions",
          ("idf, tfidf, cosine_similarity and logistic_gradient exist",
           "idf, tfidf, cosine_similarity und logistic_gradient existieren"),
          ("Define all four functions with the names and signatures of the stub.",
           "Definieren Sie alle vier Funktionen mit den Namen und Signaturen der Vorlage."),
          defines_functions),
    check("idf_values",
          ("the smoothed idf equals ln((1 + n) / (1 + df)) + 1",
           "die geglättete idf ist ln((1 + n) / (1 + df)) + 1"),
          ("Add 1 to both n and df inside the logarithm, then add 1 to the result; np.log is "
           "the natural logarithm.",
           "Addieren Sie im Logarithmus 1 zu n und zu df und danach 1 zum Ergebnis; np.log ist "
           "der natürliche Logarithmus."),
          idf_values),
    check("tfidf_shape_and_unit_rows",
          ("tfidf keeps the shape; every non-empty row has length 1, an empty row stays 0",
           "tfidf behält die Form; jede nichtleere Zeile hat Länge 1, eine leere bleibt 0"),
          ("Normalise rows (axis=1), not columns, by the Euclidean length sqrt(sum of squares), "
           "and divide an empty row by 1 instead of 0.",
           "Normieren Sie Zeilen (axis=1), nicht Spalten, mit der euklidischen Länge "
           "sqrt(Summe der Quadrate), und teilen Sie eine leere Zeile durch 1 statt durch 0."),
          tfidf_shape_and_unit_rows),
    check("tfidf_matches_sklearn",
          ("tfidf equals scikit-learn's TfidfTransformer on random counts",
           "tfidf gleicht TfidfTransformer von scikit-learn auf zufälligen Zählungen"),
          ("df counts documents that contain the term (counts > 0), not occurrences; weigh "
           "the raw counts by idf before normalising.",
           "df zählt Dokumente, die den Term enthalten (counts > 0), nicht Vorkommen; "
           "gewichten Sie die rohen Zählungen vor dem Normieren mit der idf."),
          tfidf_matches_sklearn),
    check("cosine_matches",
          ("cosine_similarity equals the reference, 0 for zero rows",
           "cosine_similarity gleicht der Referenz, 0 für Nullzeilen"),
          ("Divide each row of a AND of b by its own length (keepdims=True helps), then a @ b.T; "
           "a zero row must give 0, not NaN.",
           "Teilen Sie jede Zeile von a UND von b durch ihre eigene Länge (keepdims=True hilft), "
           "dann a @ b.T; eine Nullzeile muss 0 ergeben, nicht NaN."),
          cosine_matches),
    check("gradient_matches",
          ("logistic_gradient equals the reference (which equals torch autograd)",
           "logistic_gradient gleicht der Referenz (die torch autograd gleicht)"),
          ("dL/dw = x.T @ (p - y) / n + w / (c n) with p = 1 / (1 + exp(-z)); mind the sign "
           "(prediction minus target) and the mean over n.",
           "dL/dw = x.T @ (p - y) / n + w / (c n) mit p = 1 / (1 + exp(-z)); achten Sie auf das "
           "Vorzeichen (Vorhersage minus Ziel) und den Mittelwert über n."),
          gradient_matches),
    check("bias_is_not_penalised",
          ("the bias gradient is mean(p - y), without a penalty",
           "der Bias-Gradient ist mean(p - y), ohne Strafterm"),
          ("Only w is penalised: dL/db = sum(p - y) / n.",
           "Nur w wird bestraft: dL/db = sum(p - y) / n."),
          bias_is_not_penalised),
    check("penalty_scales_with_c_and_n",
          ("the penalty's gradient is w / (c n)",
           "der Gradient des Strafterms ist w / (c n)"),
          ("The penalty is |w|^2 / (2 c n); its gradient is w / (c n), divided by c and by n.",
           "Der Strafterm ist |w|^2 / (2 c n); sein Gradient ist w / (c n), geteilt durch c "
           "und durch n."),
          penalty_scales_with_c_and_n),
]  # fmt: skip
