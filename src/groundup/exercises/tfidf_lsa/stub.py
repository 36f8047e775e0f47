"""Exercise tfidf_lsa: the idf with smoothing, TF-IDF with l2-normalised rows, cosine
similarity, and the gradient of L2-regularised logistic regression.

Write four functions with NumPy (scikit-learn, SciPy and groundup.text are not allowed).
`groundup check tfidf-lsa` compares them with the reference (groundup.text, whose TF-IDF
equals scikit-learn's TfidfVectorizer and whose gradient equals torch autograd's) on random
count matrices and random data.

DE: Übung tfidf_lsa: die geglättete idf, TF-IDF mit l2-normierten Zeilen, die
Kosinus-Ähnlichkeit und der Gradient der logistischen Regression mit L2-Strafe. Schreiben
Sie vier Funktionen mit NumPy (scikit-learn, SciPy und groundup.text sind nicht erlaubt).
`groundup check tfidf-lsa` vergleicht sie mit der Referenz (groundup.text, deren TF-IDF
dem TfidfVectorizer von scikit-learn gleicht und deren Gradient dem von torch autograd).
"""

from __future__ import annotations

import numpy as np


def idf(df: np.ndarray, n_documents: int) -> np.ndarray:
    """Smoothed inverse document frequency, scikit-learn's default (smooth_idf=True):

        idf(t) = ln((1 + n) / (1 + df(t))) + 1

    df: (n_terms,) how many of the n_documents contain each term. Returns (n_terms,) floats.
    A term in every document gets idf 1, never 0.

    DE: Geglättete inverse Dokumentfrequenz wie oben; df (n_terms,) gibt an, in wie vielen
    der n_documents Dokumente ein Term vorkommt. Ein Term in allen Dokumenten hat idf 1.
    """
    # TODO: one line with np.log / TODO: eine Zeile mit np.log
    raise NotImplementedError("TODO: idf")


def tfidf(counts: np.ndarray) -> np.ndarray:
    """TF-IDF of a dense count matrix, as scikit-learn's TfidfTransformer() by default.

    counts: (n_documents, n_terms) non-negative integers (how often term t is in document d).
    1. df(t) = number of documents (rows) with counts[d, t] > 0
    2. weights = counts * idf (smoothed, see `idf`), column by column
    3. each row divided by its Euclidean (l2) length; a row of zeros stays zeros
    Returns (n_documents, n_terms) floats.

    DE: TF-IDF einer dichten Zählmatrix (Dokumente x Terme): df zählt die Dokumente, in
    denen ein Term vorkommt (nicht, wie oft); Zählungen mal geglättete idf; jede Zeile auf
    euklidische Länge 1 normieren, Nullzeilen bleiben null.
    """
    # TODO: df, idf, weights, row lengths (avoid dividing by 0)
    # TODO: df, idf, Gewichte, Zeilenlängen (nicht durch 0 teilen)
    raise NotImplementedError("TODO: tfidf")


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of every row of a (n, d) with every row of b (m, d): (n, m).

    sim[i, j] = a_i . b_j / (|a_i| |b_j|), and 0 where a_i or b_j is all zeros.

    DE: Kosinus-Ähnlichkeit jeder Zeile von a (n, d) mit jeder Zeile von b (m, d), Ergebnis
    (n, m); 0, wenn eine der beiden Zeilen nur Nullen enthält.
    """
    # TODO: normalise the rows of both, then one matrix product
    # TODO: die Zeilen beider normieren, dann ein Matrixprodukt
    raise NotImplementedError("TODO: cosine_similarity")


def logistic_gradient(
    w: np.ndarray, b: float, x: np.ndarray, y: np.ndarray, c: float
) -> tuple[np.ndarray, float]:
    """Gradient of binary logistic regression with an L2 penalty (the bias is not penalised):

        L(w, b) = (1/n) sum_i [ln(1 + exp(z_i)) - y_i z_i] + |w|^2 / (2 c n),  z = x w + b

    w: (d,), b: float, x: (n, d), y: (n,) in {0, 1}, c > 0 (scikit-learn's C).
    Returns (dL/dw of shape (d,), dL/db as a float).

    DE: Gradient der binären logistischen Regression mit L2-Strafe (der Bias wird nicht
    bestraft), Formel wie oben. Gibt (dL/dw mit Form (d,), dL/db als float) zurück.
    """
    # TODO: p = sigmoid(z); the data part is x^T (p - y) / n
    # TODO: p = sigmoid(z); der Datenanteil ist x^T (p - y) / n
    raise NotImplementedError("TODO: logistic_gradient")
