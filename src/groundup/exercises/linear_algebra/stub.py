"""Exercise linear_algebra: principal component analysis (PCA) with NumPy.

Write `pca`. You may use np.linalg.eigh or np.linalg.svd inside (the library version in
groundup.math.linear_algebra builds those from scratch too; here the point is PCA itself).
`groundup check linear-algebra` compares your result with sklearn.decomposition.PCA on
random data, up to the sign of each component.

DE: Übung linear_algebra: Hauptkomponentenanalyse (PCA) mit NumPy. Schreiben Sie `pca`.
Sie dürfen darin np.linalg.eigh oder np.linalg.svd verwenden. `groundup check
linear-algebra` vergleicht Ihr Ergebnis mit sklearn.decomposition.PCA auf Zufallsdaten,
bis auf das Vorzeichen jeder Komponente.
"""

from __future__ import annotations

import numpy as np


def pca(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first k principal components of the rows of x.

    x: (n, d) data, one example per row. k: components to keep, 1 <= k <= d.
    returns (components, explained_variance, projected):
        components (k, d): unit vectors, ONE PER ROW, orthogonal to each other, ordered
            from the direction of largest variance to smaller ones
        explained_variance (k,): the variance of the data along each component, with the
            sample denominator n - 1 (as np.var(..., ddof=1)); descending
        projected (n, k): the CENTRED data expressed in the components,
            (x - mean) @ components.T
    The sign of each component is free (v and -v span the same line); the checks accept
    either, as long as `projected` uses the same signs as `components`.

    DE: Die ersten k Hauptkomponenten der Zeilen von x. components (k, d): Einheitsvektoren,
    EIN VEKTOR PRO ZEILE, orthogonal, nach absteigender Varianz sortiert.
    explained_variance (k,): Varianz der Daten entlang jeder Komponente mit Nenner n - 1.
    projected (n, k): die ZENTRIERTEN Daten in Komponenten ausgedrückt,
    (x - mean) @ components.T. Das Vorzeichen jeder Komponente ist frei.
    """
    # TODO: 1. centre: subtract the mean of each column
    #       2. covariance (d, d) with denominator n - 1, then np.linalg.eigh
    #          (eigenvalues ascending, eigenvectors in the COLUMNS) -- or np.linalg.svd of
    #          the centred data (the components are the rows of Vt, variance = S**2 / (n-1))
    #       3. sort by variance, largest first, keep k; project the centred data
    # TODO: 1. zentrieren: den Mittelwert jeder Spalte abziehen
    #       2. Kovarianz (d, d) mit Nenner n - 1, dann np.linalg.eigh (Eigenwerte
    #          aufsteigend, Eigenvektoren in den SPALTEN) -- oder np.linalg.svd der
    #          zentrierten Daten (Komponenten = Zeilen von Vt, Varianz = S**2 / (n-1))
    #       3. nach Varianz absteigend sortieren, k behalten, zentrierte Daten projizieren
    raise NotImplementedError("TODO: pca")
