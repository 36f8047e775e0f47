"""Sentiment classification on SST-2 with TF-IDF and our logistic regression.

    python benchmarks/bench_text_classify.py --data ../shared/data/sst2

reads train.tsv and dev.tsv (GLUE format: sentence<TAB>label) from the folder, trains on
train.tsv and reports the accuracy on dev.tsv for two feature sets, each with
groundup.text.classify.LogisticRegression (L2, L-BFGS):

- bag of words: binary unigram counts (the usual baseline, about 0.80-0.82 on SST-2 dev)
- TF-IDF: unigrams and bigrams, sublinear tf, idf smoothing, l2 rows, min_df=2

C is scikit-learn's default, 1.0, fixed in advance (dev.tsv is the only labelled test
split, so it is never used for choices). `--choose-c` picks C from C_GRID on a held-out
tenth of train.tsv instead and refits on all of it; on SST-2 this is optimistic, because
train.tsv holds many phrases cut from the same sentences, so held-out phrases have near
copies in the rest and a weak penalty (large C) looks best.
`--sklearn` also fits scikit-learn's LogisticRegression on the same features and reports
its dev accuracy and the largest difference of the two models' probabilities.
Prints one JSON line per figure: name, value, unit and the configuration.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from groundup.data.glue import read_glue_tsv
from groundup.metrics.classification import accuracy
from groundup.text.classify import LogisticRegression
from groundup.text.vectorize import CountVectorizer, TfidfVectorizer

C_GRID = (0.3, 1.0, 3.0, 10.0)
VALIDATION_FRACTION = 0.1
FEATURES = {
    "bag_of_words": lambda: CountVectorizer(binary=True),
    "tfidf": lambda: TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="folder with train.tsv and dev.tsv")
    parser.add_argument("--C", type=float, default=1.0, help="inverse L2 strength")
    parser.add_argument("--choose-c", action="store_true", help="pick C on held-out train")
    parser.add_argument("--max-iter", type=int, default=1000)
    parser.add_argument("--tol", type=float, default=1e-6, help="max |gradient| to stop at")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads")
    parser.add_argument("--sklearn", action="store_true", help="compare with scikit-learn")
    return parser.parse_args(argv)


def emit(name: str, value: float, unit: str, **config: Any) -> None:
    print(json.dumps({"name": name, "value": round(float(value), 6), "unit": unit, **config}))


def choose_c(make: Any, texts: list[str], labels: list[int], args: argparse.Namespace) -> dict:
    """The C of C_GRID with the best accuracy on a held-out tenth of the training data."""
    order = np.random.default_rng(0).permutation(len(texts))
    cut = int(VALIDATION_FRACTION * len(texts))
    held, kept = order[:cut], order[cut:]
    vectorizer = make()
    x_kept = vectorizer.fit_transform([texts[i] for i in kept])
    x_held = vectorizer.transform([texts[i] for i in held])
    y = np.array(labels)
    scores = {}
    for c in C_GRID:
        model = LogisticRegression(C=c, max_iter=args.max_iter, tol=args.tol).fit(x_kept, y[kept])
        scores[c] = accuracy(y[held], model.predict(x_held))
    return scores


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    folder = Path(args.data)
    train_x, train_y = read_glue_tsv(folder / "train.tsv")
    dev_x, dev_y = read_glue_tsv(folder / "dev.tsv")
    common = {"data": folder.name, "train": len(train_x), "dev": len(dev_x),
              "threads": args.threads}  # fmt: skip
    majority = max(set(train_y), key=train_y.count)
    emit("dev_accuracy_majority", accuracy(dev_y, [majority] * len(dev_y)), "", **common)
    with threadpool_limits(args.threads):
        for name, make in FEATURES.items():
            scores = choose_c(make, train_x, train_y, args) if args.choose_c else {}
            c = max(scores, key=scores.__getitem__) if scores else args.C
            start = time.perf_counter()
            vectorizer = make()
            x_train = vectorizer.fit_transform(train_x)
            x_dev = vectorizer.transform(dev_x)
            vectorize_s = time.perf_counter() - start
            start = time.perf_counter()
            model = LogisticRegression(C=c, max_iter=args.max_iter, tol=args.tol)
            model.fit(x_train, np.array(train_y))
            train_s = time.perf_counter() - start
            config = {
                **common, "C": c, "validation_accuracy_by_C": scores, "features": name,
                "terms": len(vectorizer.vocabulary), "ngram_range": list(vectorizer.ngram_range),
                "iterations": len(model.losses) - 1, "final_loss": round(model.losses[-1], 6),
            }  # fmt: skip
            emit(f"dev_accuracy_{name}", accuracy(dev_y, model.predict(x_dev)), "", **config)
            emit(f"train_accuracy_{name}", accuracy(train_y, model.predict(x_train)), "", **config)
            emit(f"vectorize_seconds_{name}", vectorize_s, "s", **config)
            emit(f"train_seconds_{name}", train_s, "s", **config)
            if args.sklearn:
                from sklearn.linear_model import LogisticRegression as Reference

                reference = Reference(C=c, max_iter=args.max_iter, tol=1e-8)
                reference.fit(x_train, train_y)
                emit(f"sklearn_dev_accuracy_{name}", accuracy(dev_y, reference.predict(x_dev)),
                     "", **config)  # fmt: skip
                difference = np.abs(reference.predict_proba(x_dev) - model.predict_proba(x_dev))
                emit(f"max_probability_difference_{name}", difference.max(), "", **config)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
