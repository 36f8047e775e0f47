"""Exercise t5: span corruption, the pre-training objective of T5.

1. random_segmentation: cut a number of items into a given number of spans at random.
2. noise_mask: which tokens become noise: about noise_density of them, in spans of mean
   length mean_noise_span_length, kept and noise spans alternating.
3. span_corrupt: the encoder inputs (each noise span replaced by one sentinel) and the
   decoder targets (the noise spans, each after its sentinel), both ending with EOS.

Run `groundup check t5` to compare your functions with groundup.text.span_corruption, whose
output equals that of Hugging Face's T5 pre-training script.

DE: Übung t5: Span Corruption, das Vortrainingsziel von T5. (1) random_segmentation: eine
Anzahl von Elementen zufällig in eine gegebene Zahl von Abschnitten zerlegen. (2) noise_mask:
welche Tokens zu Rauschen werden: etwa der Anteil noise_density, in Abschnitten der mittleren
Länge mean_noise_span_length, abwechselnd behaltene und verrauschte Abschnitte.
(3) span_corrupt: die Encoder-Eingabe (jeder verrauschte Abschnitt durch ein Sentinel-Token
ersetzt) und das Ziel des Decoders (die verrauschten Abschnitte, jeder hinter seinem
Sentinel), beide mit EOS am Ende. `groundup check t5` vergleicht mit
groundup.text.span_corruption.
"""

from __future__ import annotations

import numpy as np


def random_segmentation(
    num_items: int, num_segments: int, rng: np.random.RandomState
) -> np.ndarray:
    """(num_segments,) int lengths, each >= 1, that add up to num_items.

    Between the num_items items there are num_items - 1 gaps; cut at num_segments - 1 of
    them, every choice equally likely. Draw exactly like this, so that a seeded rng gives
    the library's result: is_cut = np.arange(num_items - 1) < num_segments - 1 (the first
    num_segments - 1 gaps are cuts), then rng.shuffle(is_cut) (one call, nothing else drawn).
    Item 0 opens the first segment; item i + 1 opens a new segment where is_cut[i] is True.

    Example: num_items 5, num_segments 2, shuffled is_cut [F, T, F, F] -> [2, 3].

    DE: (num_segments,) Längen, jede >= 1, mit Summe num_items. Von den num_items - 1 Lücken
    werden num_segments - 1 zu Schnitten, jede Wahl gleich wahrscheinlich. Ziehen Sie genau
    so: is_cut = np.arange(num_items - 1) < num_segments - 1, dann rng.shuffle(is_cut) (ein
    Aufruf, sonst nichts). Element i + 1 beginnt einen neuen Abschnitt, wo is_cut[i] True ist.
    """
    raise NotImplementedError("TODO: cut at num_segments - 1 shuffled gaps")


def noise_mask(
    length: int,
    noise_density: float,
    mean_noise_span_length: float,
    rng: np.random.RandomState,
) -> np.ndarray:
    """(length,) bool, True = noise (the token moves to the targets).

    num_noise = round(length * noise_density), then kept in [1, length - 1];
    num_kept = length - num_noise;
    num_spans = round(min(num_noise, num_kept) / mean_noise_span_length), at least 1
    (both kinds need one token per span, so the rarer kind limits the count).
    Segment the noise tokens into num_spans lengths FIRST, then the kept tokens into
    num_spans lengths, both with random_segmentation(..., rng). Then lay them out
    kept, noise, kept, noise, ...: the mask starts with kept tokens and ends with noise.
    Use Python's round (or np.round): both round halves to even.

    DE: (length,) bool, True = Rauschen. num_noise = round(length * noise_density), auf
    [1, length - 1] begrenzt; num_kept = length - num_noise; num_spans =
    round(min(num_noise, num_kept) / mean_noise_span_length), mindestens 1. ZUERST die
    verrauschten Tokens in num_spans Längen zerlegen, dann die behaltenen, beide mit
    random_segmentation(..., rng); dann abwechselnd behalten, Rauschen, behalten, ... anordnen:
    die Maske beginnt mit behaltenen Tokens und endet mit Rauschen.
    """
    raise NotImplementedError("TODO: count, segment twice, interleave")


def span_corrupt(
    tokens: np.ndarray, mask: np.ndarray, vocab_size: int, eos_id: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, targets), 1-D int arrays, from tokens (L,) and a bool mask (L,) (any mask,
    not only one from noise_mask).

    inputs: each run of consecutive True in mask becomes ONE sentinel; tokens where mask is
    False stay in order; EOS at the end.
    targets: the same with the mask inverted: each run of kept tokens becomes one sentinel,
    the noise tokens stay; EOS at the end.
    Sentinels count down from the top of the vocabulary: the first run gets vocab_size - 1
    (T5's <extra_id_0>), the second vocab_size - 2, ... (inputs and targets count separately).

    Example, vocab_size 100, eos_id 1, mask over [10 11 12 13 14 15 16]  = F F T T F T F:
      inputs  [10 11 99 14 98 16 1]     targets [99 12 13 98 15 97 1]

    DE: (inputs, targets) aus tokens (L,) und einer bool-Maske (L,). inputs: jeder Lauf
    aufeinanderfolgender True wird zu EINEM Sentinel, Tokens mit False bleiben in ihrer
    Reihenfolge; am Ende EOS. targets: dasselbe mit invertierter Maske. Sentinels zählen von
    oben herab: der erste Lauf bekommt vocab_size - 1, der zweite vocab_size - 2, ...
    """
    raise NotImplementedError("TODO: one sentinel per run, then EOS")
