"""Checks for the `gpt` exercise: top-k, top-p and sampling against groundup.models.sampling.

The reference filters match Hugging Face's TopKLogitsWarper and TopPLogitsWarper (proved in
tests/models/test_sampling.py). Statistical checks draw many samples with a fixed seed and
compare the frequencies with the expected probabilities by a chi-square statistic.
"""

from __future__ import annotations

import math
from types import ModuleType

import torch

from groundup.exercises.checking import (
    Check,
    Mismatch,
    assert_close,
    assert_shape,
    assert_true,
    call,
    excerpt,
    require,
)
from groundup.i18n import Msg
from groundup.models import sampling

FUNCTIONS = ["filter_top_k", "filter_top_p", "sample_next"]

REFERENCE = "from groundup.models.sampling import filter_top_k, filter_top_p, sample_next\n"

SAMPLES = 40_000
# Chi-square critical values at significance 0.001 by degrees of freedom: a correct sampler
# exceeds them once in a thousand seeds; with the fixed seeds here the outcome is fixed.
CHI2_0_001 = {1: 10.83, 2: 13.82, 3: 16.27, 4: 18.47, 5: 20.52, 6: 22.46, 7: 24.32}
LOGITS_8 = [2.0, 1.5, 1.0, 0.6, 0.2, -0.3, -1.0, -2.0]


def _random_logits(seed: int, shape: tuple[int, ...], scale: float = 2.0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed)) * scale


def _kept(logits: torch.Tensor) -> list:
    return logits.isfinite().tolist()


# ---------------------------------------------------------------- checks


def check_exists(module: ModuleType) -> None:
    for name in FUNCTIONS:
        require(module, name)


def check_shapes(module: ModuleType) -> None:
    top_k, top_p = require(module, "filter_top_k"), require(module, "filter_top_p")
    sample = require(module, "sample_next")
    for shape in [(3, 10), (2, 4, 10), (10,)]:
        logits = _random_logits(0, shape)
        compared = Msg(
            f"filter_top_k(logits {shape}, 3).shape", f"filter_top_k(logits {shape}, 3).shape"
        )
        assert_shape(compared, call(compared, top_k, logits, 3), shape)
        compared = Msg(
            f"filter_top_p(logits {shape}, 0.5).shape", f"filter_top_p(logits {shape}, 0.5).shape"
        )
        assert_shape(compared, call(compared, top_p, logits, 0.5), shape)
    compared = Msg(
        "sample_next(logits (5, 10)): shape and dtype",
        "sample_next(logits (5, 10)): Form und dtype",
    )
    out = call(
        compared, sample, _random_logits(1, (5, 10)), generator=torch.Generator().manual_seed(0)
    )
    assert_shape(compared, out, (5,))
    assert_true(compared, out.dtype == torch.long, "dtype torch.int64 (token ids)", str(out.dtype))


def check_top_k_matches_reference(module: ModuleType) -> None:
    top_k = require(module, "filter_top_k")
    for seed, (shape, k) in enumerate(
        [((4, 20), 1), ((4, 20), 5), ((2, 3, 20), 19), ((3, 20), 20), ((3, 7), 12)]
    ):
        logits = _random_logits(seed, shape)
        compared = Msg(
            f"filter_top_k(random logits {shape}, k={k})",
            f"filter_top_k(zufällige Logits {shape}, k={k})",
        )
        got = call(compared, top_k, logits.clone(), k)
        assert_close(
            compared, got, sampling.filter_top_k(logits, k), atol=1e-6, check_type=torch.Tensor
        )


def check_top_k_keeps_ties(module: ModuleType) -> None:
    top_k = require(module, "filter_top_k")
    logits = torch.tensor([[1.0, 3.0, 2.0, 2.0, 0.0], [5.0, 5.0, 5.0, 1.0, 1.0]])
    compared = Msg(
        "filter_top_k([[1, 3, 2, 2, 0], [5, 5, 5, 1, 1]], k=2): which tokens stay finite",
        "filter_top_k([[1, 3, 2, 2, 0], [5, 5, 5, 1, 1]], k=2): welche Tokens endlich bleiben",
    )
    got = call(compared, top_k, logits.clone(), 2)
    expected = sampling.filter_top_k(logits, 2)
    assert_true(
        compared,
        isinstance(got, torch.Tensor) and _kept(got) == _kept(expected),
        excerpt(_kept(expected)),
        excerpt(_kept(got)) if isinstance(got, torch.Tensor) else excerpt(got),
    )
    for seed in range(3):  # many ties: logits on a coarse grid
        coarse = torch.randint(0, 4, (6, 12), generator=torch.Generator().manual_seed(seed)).float()
        compared = Msg(
            f"filter_top_k(logits with many ties, seed {seed}, k=3)",
            f"filter_top_k(Logits mit vielen Gleichständen, Seed {seed}, k=3)",
        )
        assert_close(
            compared, call(compared, top_k, coarse.clone(), 3), sampling.filter_top_k(coarse, 3)
        )


def check_top_p_matches_reference(module: ModuleType) -> None:
    top_p = require(module, "filter_top_p")
    cases = [((4, 20), 0.9), ((4, 20), 0.5), ((2, 3, 20), 0.3), ((5, 50), 0.95), ((3, 8), 0.7)]
    for seed, (shape, p) in enumerate(cases):
        logits = _random_logits(100 + seed, shape)
        compared = Msg(
            f"filter_top_p(random logits {shape}, p={p})",
            f"filter_top_p(zufällige Logits {shape}, p={p})",
        )
        got = call(compared, top_p, logits.clone(), p)
        assert_close(
            compared, got, sampling.filter_top_p(logits, p), atol=1e-6, check_type=torch.Tensor
        )


def _check_top_p_case(module: ModuleType, probs: list[float], p: float) -> None:
    top_p = require(module, "filter_top_p")
    logits = torch.tensor([probs]).log()
    compared = Msg(
        f"filter_top_p(log of probabilities {probs}, p={p}): which tokens stay finite",
        f"filter_top_p(Logarithmus der Wahrscheinlichkeiten {probs}, p={p}): welche Tokens endlich bleiben",
    )
    got = call(compared, top_p, logits.clone(), p)
    expected = _kept(sampling.filter_top_p(logits, p))
    assert_true(
        compared,
        isinstance(got, torch.Tensor) and _kept(got) == expected,
        excerpt(expected),
        excerpt(_kept(got)) if isinstance(got, torch.Tensor) else excerpt(got),
    )


def check_top_p_keeps_crossing_token(module: ModuleType) -> None:
    # 0.5 alone is below 0.6; 0.5 + 0.3 = 0.8 crosses it, so the 0.3 token stays.
    _check_top_p_case(module, [0.05, 0.5, 0.15, 0.3], 0.6)
    _check_top_p_case(module, [0.05, 0.5, 0.15, 0.3], 0.85)
    _check_top_p_case(module, [0.1, 0.2, 0.3, 0.4], 0.45)


def check_top_p_keeps_at_least_one(module: ModuleType) -> None:
    # The top token's probability alone exceeds p: exactly the top token survives.
    _check_top_p_case(module, [0.1, 0.7, 0.2], 0.5)
    _check_top_p_case(module, [0.25, 0.25, 0.4, 0.1], 0.05)
    top_p = require(module, "filter_top_p")
    logits = _random_logits(7, (6, 30), scale=3.0)
    compared = Msg(
        "filter_top_p(random logits (6, 30), p=1e-6): tokens kept per row",
        "filter_top_p(zufällige Logits (6, 30), p=1e-6): behaltene Tokens pro Zeile",
    )
    got = call(compared, top_p, logits.clone(), 1e-6)
    n_kept = got.isfinite().sum(-1).tolist() if isinstance(got, torch.Tensor) else got
    assert_true(compared, n_kept == [1] * 6, excerpt([1] * 6), excerpt(n_kept))


def check_top_p_one_keeps_all(module: ModuleType) -> None:
    top_p = require(module, "filter_top_p")
    logits = _random_logits(8, (4, 25))
    compared = Msg(
        "filter_top_p(random logits (4, 25), p=1.0)",
        "filter_top_p(zufällige Logits (4, 25), p=1.0)",
    )
    assert_close(compared, call(compared, top_p, logits.clone(), 1.0), logits, atol=0, rtol=0)


def check_greedy_is_argmax(module: ModuleType) -> None:
    sample = require(module, "sample_next")
    logits = _random_logits(9, (32, 40))
    compared = Msg(
        "sample_next(logits (32, 40), greedy=True)", "sample_next(Logits (32, 40), greedy=True)"
    )
    for seed in range(3):  # the same answer every time: no randomness
        torch.manual_seed(seed)
        got = call(
            compared,
            sample,
            logits.clone(),
            greedy=True,
            generator=torch.Generator().manual_seed(seed),
        )
        assert_close(compared, got, logits.argmax(-1), atol=0, rtol=0, check_type=torch.Tensor)


def _frequencies(
    module: ModuleType, compared: Msg, logits: torch.Tensor, **kwargs: object
) -> torch.Tensor:
    sample = require(module, "sample_next")
    torch.manual_seed(0)  # also fixes draws made without the generator
    draws = call(
        compared,
        sample,
        logits.expand(SAMPLES, -1).clone(),
        generator=torch.Generator().manual_seed(1),
        **kwargs,
    )
    assert_shape(compared, draws, (SAMPLES,))
    return torch.bincount(draws.long().flatten(), minlength=logits.numel()).double()


def _assert_distribution(compared: Msg, counts: torch.Tensor, probs: torch.Tensor) -> None:
    freq = counts / counts.sum()
    impossible = (probs == 0) & (counts > 0)
    if impossible.any():
        token = int(impossible.nonzero()[0])
        raise Mismatch(
            compared,
            expected=f"probabilities {excerpt([round(x, 3) for x in probs.tolist()])}",
            got=f"frequencies {excerpt([round(x, 3) for x in freq.tolist()])}",
            where=f"token {token} has probability 0 (filtered out) but was drawn {int(counts[token])} times",
        )
    keep = probs > 0
    expected = probs[keep] * counts.sum()
    chi2 = float(((counts[keep] - expected) ** 2 / expected).sum())
    dof = int(keep.sum()) - 1
    limit = CHI2_0_001.get(dof, dof + 4 * math.sqrt(2 * dof))
    if chi2 > limit:
        raise Mismatch(
            compared,
            expected=f"frequencies near {excerpt([round(x, 3) for x in probs.tolist()])}",
            got=f"frequencies {excerpt([round(x, 3) for x in freq.tolist()])}",
            where=f"chi-square {chi2:.1f} over {SAMPLES} draws; a correct sampler stays below {limit} (significance 0.001)",
        )


def check_temperature_distribution(module: ModuleType) -> None:
    logits = torch.tensor(LOGITS_8)
    for temperature in (0.5, 1.0, 2.0):
        compared = Msg(
            f"frequencies of {SAMPLES} draws of sample_next(logits, temperature={temperature}) vs softmax(logits / {temperature})",
            f"Häufigkeiten von {SAMPLES} Ziehungen mit sample_next(logits, temperature={temperature}) vs. softmax(logits / {temperature})",
        )
        counts = _frequencies(module, compared, logits, temperature=temperature)
        _assert_distribution(compared, counts, (logits.double() / temperature).softmax(-1))


def check_sampling_uses_filters(module: ModuleType) -> None:
    logits = torch.tensor(LOGITS_8)
    for kwargs in ({"top_k": 3}, {"top_p": 0.8}, {"temperature": 0.7, "top_k": 5, "top_p": 0.9}):
        args = ", ".join(f"{k}={v}" for k, v in kwargs.items())
        compared = Msg(
            f"frequencies of {SAMPLES} draws of sample_next(logits, {args}) vs the filtered softmax",
            f"Häufigkeiten von {SAMPLES} Ziehungen mit sample_next(logits, {args}) vs. die gefilterte Softmax",
        )
        counts = _frequencies(module, compared, logits, **kwargs)
        filtered = logits / kwargs.get("temperature", 1.0)
        if "top_k" in kwargs:
            filtered = sampling.filter_top_k(filtered, kwargs["top_k"])
        if "top_p" in kwargs:
            filtered = sampling.filter_top_p(filtered, kwargs["top_p"])
        _assert_distribution(compared, counts, filtered.double().softmax(-1))


def check_rejects_bad_temperature(module: ModuleType) -> None:
    sample = require(module, "sample_next")
    for temperature in (0.0, -1.0):
        compared = Msg(
            f"sample_next(logits, temperature={temperature})",
            f"sample_next(logits, temperature={temperature})",
        )
        try:
            got = sample(_random_logits(10, (2, 5)), temperature=temperature)
        except ValueError:
            continue
        except Exception as error:  # the wrong kind of error
            raise Mismatch(
                compared,
                expected="ValueError",
                got=f"{type(error).__name__}: {excerpt(str(error))}",
            ) from None
        raise Mismatch(
            compared,
            expected="ValueError (temperature must be > 0)",
            got=f"returned {excerpt(got)}",
        )


def check_generator_reproducible(module: ModuleType) -> None:
    sample = require(module, "sample_next")
    logits = _random_logits(11, (64, 50), scale=0.5)
    compared = Msg(
        "sample_next twice with torch.Generator().manual_seed(7), global seed changed in between",
        "sample_next zweimal mit torch.Generator().manual_seed(7), globaler Seed dazwischen geändert",
    )
    torch.manual_seed(1)
    first = call(compared, sample, logits.clone(), generator=torch.Generator().manual_seed(7))
    torch.manual_seed(2)
    second = call(compared, sample, logits.clone(), generator=torch.Generator().manual_seed(7))
    assert_close(compared, second, first, atol=0, rtol=0, check_type=torch.Tensor)


def check_input_not_mutated(module: ModuleType) -> None:
    logits = _random_logits(12, (4, 16))
    calls = [
        ("filter_top_k(logits, 3)", "filter_top_k", (3,), {}),
        ("filter_top_p(logits, 0.5)", "filter_top_p", (0.5,), {}),
        (
            "sample_next(logits, temperature=0.5, top_k=4, top_p=0.8)",
            "sample_next",
            (),
            {"temperature": 0.5, "top_k": 4, "top_p": 0.8},
        ),
    ]
    for text, name, args, kwargs in calls:
        fn = require(module, name)
        given = logits.clone()
        compared = Msg(f"logits after {text}", f"Logits nach {text}")
        call(compared, fn, given, *args, **kwargs)
        assert_close(compared, given, logits, atol=0, rtol=0)


CHECKS: list[Check] = [
    Check(
        "exists",
        Msg(
            "filter_top_k, filter_top_p and sample_next are defined",
            "filter_top_k, filter_top_p und sample_next sind definiert",
        ),
        Msg(
            "Keep the three function names from the stub.",
            "Behalten Sie die drei Funktionsnamen aus der Vorlage bei.",
        ),
        check_exists,
    ),
    Check(
        "shapes",
        Msg(
            "filters keep the input's shape; sample_next returns (B,) token ids",
            "Filter behalten die Form der Eingabe; sample_next gibt (B,) Token-IDs zurück",
        ),
        Msg(
            "Work along dim=-1 only. torch.multinomial returns (B, 1): squeeze the last dimension.",
            "Arbeiten Sie nur entlang dim=-1. torch.multinomial liefert (B, 1): entfernen Sie die letzte Dimension mit squeeze.",
        ),
        check_shapes,
    ),
    Check(
        "top_k_matches_reference",
        Msg(
            "filter_top_k equals the reference on random logits",
            "filter_top_k stimmt auf zufälligen Logits mit der Referenz überein",
        ),
        Msg(
            "Find the k-th largest value with torch.topk(...).values[..., -1:] and set everything strictly below it to -inf. Clamp k to V.",
            "Bestimmen Sie den k-t größten Wert mit torch.topk(...).values[..., -1:] und setzen Sie alles echt darunter auf -inf. Begrenzen Sie k auf V.",
        ),
        check_top_k_matches_reference,
    ),
    Check(
        "top_k_keeps_ties",
        Msg(
            "filter_top_k keeps every logit tied with the k-th largest",
            "filter_top_k behält jeden Logit, der mit dem k-t größten gleichauf liegt",
        ),
        Msg(
            "Compare values, not positions: remove logits < k-th value, not 'all but the topk indices'.",
            "Vergleichen Sie Werte, nicht Positionen: entfernen Sie Logits < k-t größter Wert, nicht 'alles außer den topk-Indizes'.",
        ),
        check_top_k_keeps_ties,
    ),
    Check(
        "top_p_matches_reference",
        Msg(
            "filter_top_p equals the reference on random logits",
            "filter_top_p stimmt auf zufälligen Logits mit der Referenz überein",
        ),
        Msg(
            "Sort descending, softmax, cumsum; map the decision back to vocabulary order with scatter (or index with the sort order).",
            "Absteigend sortieren, Softmax, cumsum; die Entscheidung mit scatter in die Reihenfolge des Vokabulars zurückbringen.",
        ),
        check_top_p_matches_reference,
    ),
    Check(
        "top_p_keeps_crossing_token",
        Msg(
            "filter_top_p keeps the token that carries the total across p",
            "filter_top_p behält das Token, mit dem die Summe p überschreitet",
        ),
        Msg(
            "A token stays if the probability mass BEFORE it (more likely tokens) is still below p: cumsum - probs < p.",
            "Ein Token bleibt, wenn die Wahrscheinlichkeitsmasse VOR ihm (wahrscheinlichere Tokens) noch unter p liegt: cumsum - probs < p.",
        ),
        check_top_p_keeps_crossing_token,
    ),
    Check(
        "top_p_keeps_at_least_one",
        Msg(
            "filter_top_p always keeps the most likely token",
            "filter_top_p behält immer das wahrscheinlichste Token",
        ),
        Msg(
            "When the top token alone exceeds p, it must still survive; never return a row of only -inf.",
            "Wenn schon das wahrscheinlichste Token allein p übersteigt, muss es trotzdem bleiben; geben Sie nie eine Zeile nur aus -inf zurück.",
        ),
        check_top_p_keeps_at_least_one,
    ),
    Check(
        "top_p_one_keeps_all",
        Msg(
            "filter_top_p with p = 1 keeps every token", "filter_top_p mit p = 1 behält alle Tokens"
        ),
        Msg(
            "With p = 1 no token may be removed; watch for rounding when comparing cumulative sums with p.",
            "Mit p = 1 darf kein Token entfernt werden; achten Sie auf Rundung beim Vergleich der kumulierten Summe mit p.",
        ),
        check_top_p_one_keeps_all,
    ),
    Check(
        "greedy_is_argmax",
        Msg(
            "sample_next(..., greedy=True) returns the argmax of each row",
            "sample_next(..., greedy=True) gibt das Argmax jeder Zeile zurück",
        ),
        Msg(
            "greedy=True means logits.argmax(dim=-1), with no sampling at all.",
            "greedy=True bedeutet logits.argmax(dim=-1), ganz ohne Ziehen.",
        ),
        check_greedy_is_argmax,
    ),
    Check(
        "temperature_distribution",
        Msg(
            "sample frequencies match softmax(logits / temperature) (chi-square, significance 0.001)",
            "Häufigkeiten der Ziehungen passen zu softmax(logits / temperature) (Chi-Quadrat, Signifikanz 0,001)",
        ),
        Msg(
            "Divide the logits by the temperature (not multiply) before the softmax, and draw with torch.multinomial(probs, 1).",
            "Teilen Sie die Logits durch die Temperatur (nicht multiplizieren), bevor Sie die Softmax bilden, und ziehen Sie mit torch.multinomial(probs, 1).",
        ),
        check_temperature_distribution,
    ),
    Check(
        "sampling_uses_filters",
        Msg(
            "sample_next with top_k/top_p draws from the filtered distribution",
            "sample_next mit top_k/top_p zieht aus der gefilterten Verteilung",
        ),
        Msg(
            "Apply temperature, then filter_top_k, then filter_top_p, and take the softmax of the filtered logits.",
            "Erst Temperatur, dann filter_top_k, dann filter_top_p anwenden und die Softmax der gefilterten Logits bilden.",
        ),
        check_sampling_uses_filters,
    ),
    Check(
        "rejects_bad_temperature",
        Msg("temperature <= 0 raises ValueError", "temperature <= 0 löst ValueError aus"),
        Msg(
            "Check `if temperature <= 0: raise ValueError(...)` before dividing by it.",
            "Prüfen Sie `if temperature <= 0: raise ValueError(...)`, bevor Sie durch sie teilen.",
        ),
        check_rejects_bad_temperature,
    ),
    Check(
        "generator_reproducible",
        Msg(
            "the same seeded generator gives the same tokens",
            "derselbe Generator mit Seed liefert dieselben Tokens",
        ),
        Msg(
            "Pass generator=generator to torch.multinomial instead of using the global random state.",
            "Geben Sie generator=generator an torch.multinomial weiter, statt den globalen Zufallszustand zu nutzen.",
        ),
        check_generator_reproducible,
    ),
    Check(
        "input_not_mutated",
        Msg(
            "the logits passed in are left unchanged", "die übergebenen Logits bleiben unverändert"
        ),
        Msg(
            "Use masked_fill (new tensor), not masked_fill_ or logits[...] = -inf on the input.",
            "Nutzen Sie masked_fill (neuer Tensor), nicht masked_fill_ oder logits[...] = -inf auf der Eingabe.",
        ),
        check_input_not_mutated,
    ),
]
