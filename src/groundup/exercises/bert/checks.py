"""Checks for the bert exercise, against groundup.text.wordpiece (whose tokens equal
BertTokenizerFast's), groundup.models.bert_pretraining.mask_tokens (whose draws equal
transformers' DataCollatorForLanguageModeling) and groundup.models.bert.BertEmbeddings
(equal to transformers' BertEmbeddings).
"""

from __future__ import annotations

import random
from functools import cache
from types import ModuleType

import torch
from torch.func import functional_call

from groundup.exercises.checking import (
    Check,
    Mismatch,
    assert_close,
    assert_shape,
    call,
    check,
    excerpt,
    require,
)
from groundup.i18n import Msg
from groundup.models.bert import BertConfig, BertEmbeddings
from groundup.models.bert_pretraining import mask_tokens
from groundup.text.wordpiece import SPECIAL_TOKENS, WordPieceTokenizer

FUNCTIONS = ["wordpiece", "mask_tokens", "bert_embeddings"]

REFERENCE = """import torch
from torch.func import functional_call

from groundup.models.bert import BertConfig, BertEmbeddings
from groundup.models.bert_pretraining import mask_tokens
from groundup.text.wordpiece import WordPieceTokenizer


def wordpiece(word, vocab, max_input_chars_per_word=100):
    tokens = ["[UNK]", "[CLS]", "[SEP]", "[PAD]", *vocab]
    tokenizer = WordPieceTokenizer(
        {t: i for i, t in enumerate(dict.fromkeys(tokens))},
        max_input_chars_per_word=max_input_chars_per_word,
    )
    return [tokenizer.id_to_token[i] for i, _, _ in tokenizer.wordpiece(word)]


def bert_embeddings(input_ids, token_type_ids, word, position, token_type, ln_weight, ln_bias,
                    eps=1e-12):
    config = BertConfig(vocab_size=word.shape[0], hidden_size=word.shape[1],
                        max_position_embeddings=position.shape[0],
                        type_vocab_size=token_type.shape[0], layer_norm_eps=eps)
    module = BertEmbeddings(config).eval()
    weights = {"word_embeddings.weight": word, "position_embeddings.weight": position,
               "token_type_embeddings.weight": token_type, "norm.weight": ln_weight,
               "norm.bias": ln_bias}
    positions = torch.arange(input_ids.shape[1]).expand_as(input_ids)
    return functional_call(module, weights, (input_ids, token_type_ids, positions))
"""

SMALL_VOCAB = ["un", "##aff", "##able", "a", "##b", "##ab", "##abc", "abc", "ab", "x", "##x",
               "play", "##ing", "##in", "##g", "p", "##l", "##a", "##y"]  # fmt: skip


def msg(text: str) -> Msg:
    return Msg(text, text)


def same(compared: Msg, got: object, expected: object) -> None:
    if got != expected:
        raise Mismatch(compared, expected=excerpt(expected), got=excerpt(got))


@cache
def library_tokenizer(vocab: tuple[str, ...], max_chars: int = 100) -> WordPieceTokenizer:
    tokens = dict.fromkeys([*SPECIAL_TOKENS, *vocab])
    return WordPieceTokenizer({t: i for i, t in enumerate(tokens)},
                              max_input_chars_per_word=max_chars)  # fmt: skip


def expected_pieces(word: str, vocab: tuple[str, ...], max_chars: int = 100) -> list[str]:
    tokenizer = library_tokenizer(vocab, max_chars)
    return [tokenizer.id_to_token[i] for i, _, _ in tokenizer.wordpiece(word)]


def compare_words(module: ModuleType, words: list[str], vocab: tuple[str, ...], name: str,
                  max_chars: int = 100) -> None:  # fmt: skip
    fn = require(module, "wordpiece")
    for word in words:
        compared = msg(f"wordpiece({word!r}, {name}, max_input_chars_per_word={max_chars})")
        got = call(compared, fn, word, set(vocab) | set(SPECIAL_TOKENS), max_chars)
        same(compared, list(got), expected_pieces(word, vocab, max_chars))


# ---------------------------------------------------------------- the checks, basic to subtle


def defines_functions(module: ModuleType) -> None:
    for name in FUNCTIONS:
        require(module, name)


def wordpiece_basic(module: ModuleType) -> None:
    words = ["unaffable", "a", "x", "xx", "xxx", "play", "playing"]
    compare_words(module, words, tuple(SMALL_VOCAB), "a small vocab")


def wordpiece_longest(module: ModuleType) -> None:
    words = ["abc", "ab", "aab", "aabc", "aabab", "abcab", "plag", "playin"]
    compare_words(module, words, tuple(SMALL_VOCAB), "a small vocab")


def wordpiece_unknown(module: ModuleType) -> None:
    words = ["unz", "z", "abcz", "playingz", "zab"]
    compare_words(module, words, tuple(SMALL_VOCAB), "a small vocab")
    compare_words(module, ["xxxxxx", "xxxxx"], tuple(SMALL_VOCAB), "a small vocab", max_chars=5)


def wordpiece_random(module: ModuleType) -> None:
    rng = random.Random(0)
    letters = "abcd"
    vocab = {rng.choice(letters) for _ in range(3)}
    vocab |= {"##" + c for c in "abc"}
    for _ in range(40):
        piece = "".join(rng.choice(letters) for _ in range(rng.randint(1, 4)))
        vocab.add(piece if rng.random() < 0.4 else "##" + piece)
    words = ["".join(rng.choice(letters) for _ in range(rng.randint(1, 9))) for _ in range(80)]
    compare_words(module, words, tuple(sorted(vocab)), "a random vocab over 'abcd'")


def random_ids(seed: int, B: int = 6, T: int = 20) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, 50, (B, T), generator=g)
    special = torch.rand(B, T, generator=g) < 0.25
    special[:, 0] = True
    ids[special] = 2
    return ids, special


def run_mask(module: ModuleType, compared: Msg, ids: torch.Tensor, special: torch.Tensor,
             probability: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    fn = require(module, "mask_tokens")
    g = torch.Generator().manual_seed(seed)
    out = call(compared, fn, ids.clone(), special.clone(), 4, 50, probability, g)
    if not (isinstance(out, tuple | list) and len(out) == 2):
        raise Mismatch(compared, expected="a pair (inputs, labels)", got=excerpt(out))
    for tensor in out:
        assert_shape(compared, tensor, tuple(ids.shape))
    return out[0], out[1]


def mask_labels(module: ModuleType) -> None:
    ids, special = random_ids(1)
    compared = msg("mask_tokens(ids, special_mask, 4, 50, mlm_probability=1.0)")
    _, labels = run_mask(module, compared, ids, special, 1.0, seed=0)
    same(compared, labels.tolist(), torch.where(special, -100, ids).tolist())
    compared = msg("mask_tokens(ids, special_mask, 4, 50, mlm_probability=0.3): labels")
    inputs, labels = run_mask(module, compared, ids, special, 0.3, seed=1)
    chosen = labels != -100
    same(compared, labels[chosen].tolist(), ids[chosen].tolist())
    unchanged = inputs[~chosen] == ids[~chosen]
    if not bool(unchanged.all()):
        raise Mismatch(compared, expected="inputs unchanged where the label is -100",
                       got=f"{int((~unchanged).sum())} of them changed")  # fmt: skip


def mask_specials(module: ModuleType) -> None:
    ids, special = random_ids(2, B=30)
    for probability in (1.0, 0.5):
        compared = msg(f"mask_tokens(ids, special_mask, 4, 50, {probability}) at special tokens")
        inputs, labels = run_mask(module, compared, ids, special, probability, seed=2)
        same(compared, inputs[special].tolist(), ids[special].tolist())
        if bool((labels[special] != -100).any()):
            raise Mismatch(compared, expected="label -100 at every special token",
                           got=excerpt(labels[special].tolist()))  # fmt: skip


def mask_input_untouched(module: ModuleType) -> None:
    fn = require(module, "mask_tokens")
    ids, special = random_ids(3)
    before = ids.clone()
    compared = msg("input_ids after mask_tokens(input_ids, ...)")
    call(compared, fn, ids, special, 4, 50, 0.5, torch.Generator().manual_seed(3))
    same(compared, ids.tolist(), before.tolist())


def mask_exact(module: ModuleType) -> None:
    for seed in (4, 5, 6):
        ids, special = random_ids(seed, B=8)
        compared = Msg(f"mask_tokens(ids, special_mask, 4, 50, 0.15, Generator seed {seed})",
                       f"mask_tokens(ids, special_mask, 4, 50, 0.15, Generator-Seed {seed})")  # fmt: skip
        inputs, labels = run_mask(module, compared, ids, special, 0.15, seed)
        want_inputs, want_labels = mask_tokens(ids, special, 4, 50, 0.15,
                                               torch.Generator().manual_seed(seed))  # fmt: skip
        same(compared, labels.tolist(), want_labels.tolist())
        same(compared, inputs.tolist(), want_inputs.tolist())


def mask_statistics(module: ModuleType) -> None:
    ids, special = random_ids(7, B=200, T=50)
    compared = msg("mask_tokens on 10,000 positions: shares of [MASK], random and unchanged")
    inputs, labels = run_mask(module, compared, ids, special, 0.15, seed=1007)
    chosen = labels != -100
    n, ordinary = int(chosen.sum()), int((~special).sum())
    masked = int(((inputs == 4) & chosen).sum()) / max(n, 1)
    kept = int(((inputs == ids) & chosen).sum()) / max(n, 1)
    got = f"chosen {n / ordinary:.3f}, [MASK] {masked:.3f}, unchanged {kept:.3f}"
    if abs(n / ordinary - 0.15) > 0.02 or abs(masked - 0.8) > 0.05 or abs(kept - 0.1) > 0.05:
        raise Mismatch(compared, expected="chosen 0.15, [MASK] 0.80, unchanged 0.10", got=got)


def weights(seed: int, V: int = 30, P: int = 16, H: int = 8) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    shapes = {"word": (V, H), "position": (P, H), "token_type": (2, H), "ln_weight": (H,),
              "ln_bias": (H,)}  # fmt: skip
    out = {name: torch.randn(shape, generator=g, dtype=torch.float64)
           for name, shape in shapes.items()}  # fmt: skip
    out["ln_weight"] = 1 + 0.2 * out["ln_weight"]
    return out


def inputs(seed: int, B: int = 3, T: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, 30, (B, T), generator=g)  # id 0 is padding: its row gets no gradient
    types = (torch.arange(T) >= torch.randint(1, T, (B, 1), generator=g)).long()
    return ids, types


def library_embeddings(ids: torch.Tensor, types: torch.Tensor, w: dict[str, torch.Tensor],
                       eps: float) -> torch.Tensor:  # fmt: skip
    config = BertConfig(vocab_size=w["word"].shape[0], hidden_size=w["word"].shape[1],
                        max_position_embeddings=w["position"].shape[0], layer_norm_eps=eps)  # fmt: skip
    module = BertEmbeddings(config).eval()
    names = {"word_embeddings.weight": "word", "position_embeddings.weight": "position",
             "token_type_embeddings.weight": "token_type", "norm.weight": "ln_weight",
             "norm.bias": "ln_bias"}  # fmt: skip
    positions = torch.arange(ids.shape[1]).expand_as(ids)
    return functional_call(module, {k: w[v] for k, v in names.items()}, (ids, types, positions))


def embeddings_shape(module: ModuleType) -> None:
    fn = require(module, "bert_embeddings")
    ids, types = inputs(8, B=2, T=5)
    compared = msg("bert_embeddings(ids (2, 5), types, word (30, 8), ...).shape")
    assert_shape(compared, call(compared, fn, ids, types, **weights(8)), (2, 5, 8))


def embeddings_values(module: ModuleType) -> None:
    fn = require(module, "bert_embeddings")
    for seed, eps in ((9, 1e-12), (10, 1e-12), (11, 0.5)):
        ids, types = inputs(seed)
        w = weights(seed)
        compared = msg(f"bert_embeddings(random inputs, seed {seed}, eps={eps})")
        got = call(compared, fn, ids, types, **w, eps=eps)
        assert_close(compared, got, library_embeddings(ids, types, w, eps), atol=1e-9, rtol=1e-7)


def embeddings_gradients(module: ModuleType) -> None:
    fn = require(module, "bert_embeddings")
    ids, types = inputs(12)
    mine = {k: v.clone().requires_grad_() for k, v in weights(12).items()}
    theirs = {k: v.clone().requires_grad_() for k, v in weights(12).items()}
    probe = torch.randn(3, 10, 8, generator=torch.Generator().manual_seed(13), dtype=torch.float64)
    compared = msg("gradients of sum(bert_embeddings(...) * random) for each weight")
    (call(compared, fn, ids, types, **mine) * probe).sum().backward()
    (library_embeddings(ids, types, theirs, 1e-12) * probe).sum().backward()
    for name in mine:
        if mine[name].grad is None:
            raise Mismatch(msg(f"gradient of {name}"), expected="a tensor", got="None")
        assert_close(msg(f"gradient of {name}"), mine[name].grad, theirs[name].grad,
                     atol=1e-9, rtol=1e-7)  # fmt: skip


CHECKS: list[Check] = [
    check(
        "exists",
        (
            "functions wordpiece, mask_tokens and bert_embeddings",
            "Funktionen wordpiece, mask_tokens und bert_embeddings",
        ),
        (
            "Define all three functions at the top level of your file, with these names.",
            "Definieren Sie alle drei Funktionen mit diesen Namen auf oberster Ebene Ihrer Datei.",
        ),
        defines_functions,
    ),
    check(
        "wordpiece_basic",
        (
            "wordpiece splits words of a small vocabulary",
            "wordpiece zerlegt Wörter eines kleinen Vokabulars",
        ),
        (
            'Pieces after the first are looked up as "##" + rest and returned with the "##".',
            'Stücke nach dem ersten werden als "##" + Rest gesucht und mit "##" zurückgegeben.',
        ),
        wordpiece_basic,
    ),
    check(
        "wordpiece_longest",
        ("wordpiece takes the longest match first", "wordpiece nimmt zuerst den längsten Treffer"),
        (
            "Try end = len(word), len(word) - 1, ... down to start + 1 and take the first that is "
            "in the vocabulary.",
            "Probieren Sie end = len(word), len(word) - 1, ... bis start + 1 und nehmen Sie den "
            "ersten Treffer im Vokabular.",
        ),
        wordpiece_longest,
    ),
    check(
        "wordpiece_unknown",
        (
            "a word that cannot be covered (or is too long) is one [UNK]",
            "ein nicht abdeckbares (oder zu langes) Wort ist ein einziges [UNK]",
        ),
        (
            'If no piece fits at some position, return ["[UNK]"] for the whole word, not the '
            "pieces found so far; a word longer than max_input_chars_per_word too.",
            'Passt an einer Stelle kein Stück, geben Sie ["[UNK]"] für das ganze Wort zurück, '
            "nicht die bisher gefundenen Stücke; ebenso bei mehr als max_input_chars_per_word "
            "Zeichen.",
        ),
        wordpiece_unknown,
    ),
    check(
        "wordpiece_random",
        (
            "wordpiece equals the library on random vocabularies",
            "wordpiece stimmt auf zufälligen Vokabularen mit der Bibliothek überein",
        ),
        (
            "Compare your loop with the docstring step by step on a word that fails.",
            "Gehen Sie Ihre Schleife an einem fehlschlagenden Wort Schritt für Schritt durch.",
        ),
        wordpiece_random,
    ),
    check(
        "mask_labels",
        (
            "labels: the original id where chosen, -100 elsewhere",
            "labels: die Original-ID an ausgewählten Stellen, sonst -100",
        ),
        (
            "Clone input_ids for the labels and set labels[~chosen] = -100; positions not chosen "
            "keep their input id.",
            "Klonen Sie input_ids für die labels und setzen Sie labels[~chosen] = -100; nicht "
            "ausgewählte Stellen behalten ihre Eingabe-ID.",
        ),
        mask_labels,
    ),
    check(
        "mask_specials",
        ("special tokens are never chosen", "Sonderzeichen werden nie ausgewählt"),
        (
            "Set the probability to 0 where special_mask is True before the first Bernoulli draw.",
            "Setzen Sie die Wahrscheinlichkeit vor dem ersten Bernoulli-Zug dort auf 0, wo "
            "special_mask True ist.",
        ),
        mask_specials,
    ),
    check(
        "mask_input_untouched",
        ("mask_tokens leaves input_ids unchanged", "mask_tokens lässt input_ids unverändert"),
        (
            "Work on input_ids.clone(): the caller may use the batch again (e.g. a new masking "
            "each epoch).",
            "Arbeiten Sie auf input_ids.clone(): Der Aufrufer braucht den Batch eventuell noch "
            "(z. B. neue Maskierung in jeder Epoche).",
        ),
        mask_input_untouched,
    ),
    check(
        "mask_exact",
        (
            "mask_tokens equals the library draw for draw",
            "mask_tokens stimmt Zug für Zug mit der Bibliothek überein",
        ),
        (
            "Four draws over the full (B, T) shape, in the docstring's order: bernoulli(p), "
            "bernoulli(0.8), bernoulli(0.5), randint(vocab_size); 0.5 because half of the "
            "remaining 20 % is 10 % of the chosen tokens.",
            "Vier Züge über die volle Form (B, T) in der Reihenfolge des Docstrings: "
            "bernoulli(p), bernoulli(0.8), bernoulli(0.5), randint(vocab_size); 0.5, weil die "
            "Hälfte der übrigen 20 % genau 10 % der ausgewählten Tokens sind.",
        ),
        mask_exact,
    ),
    check(
        "mask_statistics",
        (
            "15 % chosen; 80 % [MASK], 10 % unchanged among them",
            "15 % ausgewählt; davon 80 % [MASK], 10 % unverändert",
        ),
        (
            "A random id may replace only positions that were chosen and not set to [MASK].",
            "Eine zufällige ID darf nur ausgewählte Stellen ersetzen, die nicht [MASK] wurden.",
        ),
        mask_statistics,
    ),
    check(
        "embeddings_shape",
        ("bert_embeddings returns (B, T, H)", "bert_embeddings liefert (B, T, H)"),
        (
            "Index each table with (B, T) ids: word[input_ids] is (B, T, H).",
            "Indizieren Sie jede Tabelle mit (B, T)-IDs: word[input_ids] ist (B, T, H).",
        ),
        embeddings_shape,
    ),
    check(
        "embeddings_values",
        (
            "bert_embeddings equals the library's BertEmbeddings",
            "bert_embeddings stimmt mit BertEmbeddings der Bibliothek überein",
        ),
        (
            "Sum all three (positions 0..T-1), then F.layer_norm over the last dimension with "
            "ln_weight, ln_bias and the given eps.",
            "Addieren Sie alle drei (Positionen 0..T-1), dann F.layer_norm über die letzte "
            "Dimension mit ln_weight, ln_bias und dem gegebenen eps.",
        ),
        embeddings_values,
    ),
    check(
        "embeddings_gradients",
        ("gradients reach all five weights", "Gradienten erreichen alle fünf Gewichte"),
        (
            "Use differentiable torch operations only (indexing, +, F.layer_norm); no .detach() "
            "or in-place writes into the weights.",
            "Nur differenzierbare torch-Operationen (Indizieren, +, F.layer_norm); kein "
            ".detach() und kein Schreiben in die Gewichte.",
        ),
        embeddings_gradients,
    ),
]
