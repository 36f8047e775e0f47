"""Our word2vec against gensim's on the same corpus and settings, as JSON lines.

Settings shared by both: 50 dimensions, window 5, 5 noise words, sample 1e-3, min_count 5,
5 epochs, skip-gram and CBOW. Ours is single-threaded NumPy in batches of 512 pairs
(lr 0.1 for skip-gram, 0.2 for CBOW: a row updated by several pairs of a batch moves by
their mean step, so it needs a larger rate than gensim's one-pair-at-a-time 0.025).
gensim runs its default learning rates, once with workers=1 and once with its default
workers=3. Speed is corpus words x epochs / training seconds (wall clock; vocabulary
building not included), quality is the Spearman correlation with the hand-scored pairs
and the analogy accuracy of text/word_eval.py.

    python benchmarks/bench_word2vec.py                # the embedded docstring corpus
    python benchmarks/bench_word2vec.py --data FILE    # any UTF-8 text

prints one line per (implementation, model), e.g.
    {"impl": "groundup", "model": "skipgram", "words_per_s": ..., "spearman": ..., ...}
and a last line with the speed ratios gensim / ours.
"""

from __future__ import annotations

import argparse
import json
import time

from groundup.data.corpus import load_corpus
from groundup.data.text import read_text
from groundup.text.word2vec import Word2Vec, corpus_sentences
from groundup.text.word_eval import (
    ANALOGIES,
    SIMILARITY_PAIRS,
    analogy_accuracy,
    similarity_correlation,
)

SETTINGS = {"dim": 50, "window": 5, "negative": 5, "sample": 1e-3, "min_count": 5, "epochs": 5}
OUR_LR = {"skipgram": 0.1, "cbow": 0.2}


def quality(vectors, words) -> dict[str, float]:  # type: ignore[no-untyped-def]
    rho, pairs = similarity_correlation(vectors, words, SIMILARITY_PAIRS)
    accuracy, quads = analogy_accuracy(vectors, words, ANALOGIES)
    return {"spearman": round(rho, 4), "pairs": pairs, "analogy": round(accuracy, 4),
            "analogies": quads}  # fmt: skip


def ours(sentences: list[list[str]], model: str, settings: dict) -> dict:
    w2v = Word2Vec(**settings, lr=OUR_LR[model], cbow=model == "cbow", batch_size=512)
    start, cpu = time.perf_counter(), time.process_time()
    w2v.fit(sentences)  # includes building the vocabulary, a small share of the time
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    n = sum(len(s) for s in sentences) * settings["epochs"]
    return {"impl": "groundup", "model": model, "workers": 1, "seconds": round(seconds, 2),
            "cpu_seconds": round(cpu_seconds, 2), "words_per_s": round(n / seconds),
            **quality(w2v.vectors, w2v.words)}  # fmt: skip


def gensim_run(sentences: list[list[str]], model: str, settings: dict, workers: int) -> dict:
    from gensim.models import Word2Vec as GensimWord2Vec

    g = GensimWord2Vec(vector_size=settings["dim"], window=settings["window"],
                       negative=settings["negative"], sample=settings["sample"],
                       min_count=settings["min_count"], sg=int(model == "skipgram"),
                       workers=workers, seed=0)  # fmt: skip
    g.build_vocab(sentences)
    start, cpu = time.perf_counter(), time.process_time()
    g.train(sentences, total_examples=len(sentences), epochs=settings["epochs"])
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    n = sum(len(s) for s in sentences) * settings["epochs"]
    return {"impl": "gensim", "model": model, "workers": workers, "seconds": round(seconds, 2),
            "cpu_seconds": round(cpu_seconds, 2), "words_per_s": round(n / seconds),
            **quality(g.wv.vectors, list(g.wv.index_to_key))}  # fmt: skip


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", help="a UTF-8 text file (default: the embedded corpus)")
    parser.add_argument("--epochs", type=int, default=SETTINGS["epochs"])
    parser.add_argument("--min-count", type=int, default=SETTINGS["min_count"])
    parser.add_argument("--no-gensim", action="store_true", help="time only our version")
    args = parser.parse_args(argv)
    text = read_text(args.data) if args.data else load_corpus()
    sentences = corpus_sentences(text)
    settings = {**SETTINGS, "epochs": args.epochs, "min_count": args.min_count}
    rows = []
    for model in ("skipgram", "cbow"):
        rows.append(ours(sentences, model, settings))
        if not args.no_gensim:
            rows += [gensim_run(sentences, model, settings, w) for w in (1, 3)]
    words = sum(len(s) for s in sentences)
    for row in rows:
        row.update(words=words, **{k: v for k, v in settings.items() if k != "epochs"},
                   epochs=settings["epochs"])  # fmt: skip
        print(json.dumps(row), flush=True)
    if not args.no_gensim:
        speed = {(r["impl"], r["model"], r["workers"]): r["words_per_s"] for r in rows}
        ratios = {f"gensim_w{w}_over_ours_{m}": round(speed["gensim", m, w] / speed["groundup", m, 1], 2)
                  for m in ("skipgram", "cbow") for w in (1, 3)}  # fmt: skip
        print(json.dumps({"speed_ratios": ratios}), flush=True)
        rows.append({"speed_ratios": ratios})
    return rows


if __name__ == "__main__":
    main()
