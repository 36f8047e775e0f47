"""Checks for the electra exercise, against groundup.models.electra (sample_replacements,
replaced_labels and discriminator_loss, whose discriminator matches transformers'
ElectraForPreTraining) and PyTorch's cross-entropy for the generator's MLM loss.
"""

from __future__ import annotations

from types import ModuleType

import torch
import torch.nn.functional as F

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
from groundup.models.bert_pretraining import IGNORE
from groundup.models.electra import discriminator_loss, replaced_labels, sample_replacements

FUNCTIONS = ["corrupt", "discriminator_loss", "electra_loss"]

REFERENCE = """import torch
import torch.nn.functional as F

from groundup.models.bert_pretraining import IGNORE
from groundup.models.electra import discriminator_loss, replaced_labels, sample_replacements


def corrupt(masked_ids, labels, attention_mask, generator_logits, generator=None):
    corrupted = sample_replacements(generator_logits, masked_ids, labels, generator)
    original = torch.where(labels != IGNORE, labels, masked_ids)
    return corrupted, replaced_labels(corrupted, original, attention_mask)


def electra_loss(generator_logits, labels, discriminator_logits, is_replaced, attention_mask,
                 discriminator_weight=50.0):
    mlm = F.cross_entropy(generator_logits.flatten(0, 1), labels.flatten(), ignore_index=IGNORE)
    detection = discriminator_loss(discriminator_logits, is_replaced, attention_mask)
    return mlm + discriminator_weight * detection
"""

MASK_ID = 4


def msg(text: str) -> Msg:
    return Msg(text, text)


class Batch:
    """A masked batch as BERT's masking leaves it: the original ids, the masked inputs
    ([MASK] at most chosen positions, the original id at the rest), the labels and an
    attention mask with padding (id 0) at the end of some rows."""

    def __init__(self, seed: int, B: int = 4, T: int = 12, V: int = 40, share: float = 0.3):
        g = torch.Generator().manual_seed(seed)
        self.attention_mask = torch.ones(B, T, dtype=torch.long)
        for row in range(1, B):
            self.attention_mask[row, T - int(torch.randint(1, T // 2, (1,), generator=g)) :] = 0
        self.original = torch.randint(5, V, (B, T), generator=g) * self.attention_mask
        chosen = (torch.rand(B, T, generator=g) < share) & self.attention_mask.bool()
        self.labels = torch.where(chosen, self.original, IGNORE)
        keep = torch.rand(B, T, generator=g) < 0.2  # the 10 % kept / 10 % random of BERT
        self.masked_ids = torch.where(chosen & ~keep, MASK_ID, self.original)
        self.logits = torch.randn(B, T, V, generator=g) * 2
        self.chosen = chosen

    def library(self, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        g = torch.Generator().manual_seed(seed)
        corrupted = sample_replacements(self.logits, self.masked_ids, self.labels, g)
        return corrupted, replaced_labels(corrupted, self.original, self.attention_mask)


def run_corrupt(
    module: ModuleType, compared: Msg, batch: Batch, seed: int, logits: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    fn = require(module, "corrupt")
    logits = batch.logits if logits is None else logits
    g = torch.Generator().manual_seed(seed)
    out = call(compared, fn, batch.masked_ids.clone(), batch.labels.clone(),
               batch.attention_mask.clone(), logits, g)  # fmt: skip
    if not (isinstance(out, tuple | list) and len(out) == 2):
        raise Mismatch(compared, expected="a pair (corrupted_ids, is_replaced)", got=excerpt(out))
    for tensor in out:
        assert_shape(compared, tensor, tuple(batch.masked_ids.shape))
    return out[0], out[1]


def same(compared: Msg, got: torch.Tensor, expected: torch.Tensor) -> None:
    if got.tolist() != expected.tolist():
        where = (got != expected).nonzero()[0].tolist() if got.shape == expected.shape else ""
        raise Mismatch(compared, expected=excerpt(expected.tolist()), got=excerpt(got.tolist()),
                       where=f"first difference at {tuple(where)}" if where else "")  # fmt: skip


# ---------------------------------------------------------------- the checks, basic to subtle


def defines_functions(module: ModuleType) -> None:
    for name in FUNCTIONS:
        require(module, name)


def corrupt_shapes(module: ModuleType) -> None:
    batch = Batch(1)
    compared = msg("corrupt(masked_ids (4, 12), labels, attention_mask, logits (4, 12, 40))")
    corrupted, is_replaced = run_corrupt(module, compared, batch, seed=1)
    if corrupted.dtype != torch.long or not is_replaced.is_floating_point():
        raise Mismatch(compared, expected="corrupted_ids long, is_replaced float",
                       got=f"{corrupted.dtype}, {is_replaced.dtype}")  # fmt: skip
    values = set(is_replaced.detach().flatten().tolist())
    if not values <= {0.0, 1.0}:
        raise Mismatch(compared, expected="is_replaced only 0.0 or 1.0", got=excerpt(values))


def corrupt_keeps_the_rest(module: ModuleType) -> None:
    batch = Batch(2)
    before = (batch.masked_ids.clone(), batch.labels.clone(), batch.logits.clone())
    fn = require(module, "corrupt")
    compared = msg("corrupt(...) at the positions with label -100")
    masked_ids, labels, logits = batch.masked_ids, batch.labels, batch.logits
    out = call(compared, fn, masked_ids, labels, batch.attention_mask, logits,
               torch.Generator().manual_seed(2))  # fmt: skip
    corrupted = out[0]
    same(compared, corrupted[~batch.chosen], before[0][~batch.chosen])
    compared = msg("masked_ids, labels and generator_logits after corrupt(...)")
    for tensor, old in zip((masked_ids, labels, logits), before, strict=True):
        if not torch.equal(tensor, old):
            raise Mismatch(compared, expected="unchanged inputs", got="an input was modified")


def corrupt_samples(module: ModuleType) -> None:
    batch = Batch(3, B=2, T=2000, V=8, share=1.0)
    probabilities = torch.tensor([0.0, 0.0, 0.0, 0.0, 0.0, 0.45, 0.35, 0.2])
    logits = probabilities.clamp_min(1e-30).log().expand(2, 2000, 8).contiguous()
    compared = msg("corrupt with softmax(generator_logits) = (0.45, 0.35, 0.2) over ids 5, 6, 7")
    corrupted, _ = run_corrupt(module, compared, batch, seed=3, logits=logits)
    drawn = corrupted[batch.chosen]
    frequencies = torch.bincount(drawn, minlength=8)[5:8].float() / len(drawn)
    got = ", ".join(f"{f:.3f}" for f in frequencies.tolist())
    if (frequencies - probabilities[5:]).abs().max() > 0.03:
        raise Mismatch(compared, expected="frequencies near 0.45, 0.35, 0.2 (sampled)", got=got)


def corrupt_exact(module: ModuleType) -> None:
    for seed in (4, 5, 6):
        batch = Batch(seed)
        compared = Msg(f"corrupt(random batch, Generator seed {seed}): corrupted_ids",
                       f"corrupt(zufälliger Batch, Generator-Seed {seed}): corrupted_ids")  # fmt: skip
        corrupted, _ = run_corrupt(module, compared, batch, seed)
        same(compared, corrupted, batch.library(seed)[0])


def corrupt_labels(module: ModuleType) -> None:
    for seed in (7, 8):
        batch = Batch(seed, B=6, T=16, V=12, share=0.5)
        # the generator puts 80 % on the original token: many draws give it back
        logits = torch.zeros(6, 16, 12)
        logits.scatter_(2, batch.original[..., None], 4.0)
        batch.logits = logits
        compared = Msg(
            f"is_replaced of corrupt(batch, seed {seed}) with a generator that often draws the "
            "original token",
            f"is_replaced von corrupt(Batch, Seed {seed}) mit einem Generator, der oft das "
            "Original zieht",
        )
        _, is_replaced = run_corrupt(module, compared, batch, seed)
        same(compared, is_replaced.detach(), batch.library(seed)[1])


def corrupt_no_gradient(module: ModuleType) -> None:
    batch = Batch(9)
    logits = batch.logits.clone().requires_grad_()
    compared = msg("corrupt(..., generator_logits with requires_grad=True)")
    corrupted, is_replaced = run_corrupt(module, compared, batch, seed=9, logits=logits)
    for name, tensor in (("corrupted_ids", corrupted), ("is_replaced", is_replaced)):
        if tensor.requires_grad:
            raise Mismatch(compared, expected=f"{name} without a gradient path to the logits",
                           got=f"{name}.requires_grad is True")  # fmt: skip


def padding_mask(B: int, T: int, padded: bool) -> torch.Tensor:
    attention_mask = torch.ones(B, T, dtype=torch.long)
    if padded:
        for row, length in enumerate((T, T - 4, 3, T - 2)[:B]):
            attention_mask[row, length:] = 0
    return attention_mask


def loss_inputs(seed: int, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Random discriminator logits and 0/1 targets; at padding a large logit the model knows
    nothing about, which must not count."""
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(attention_mask.shape, generator=g) * 3
    is_replaced = (torch.rand(attention_mask.shape, generator=g) < 0.3).float()
    padding = ~attention_mask.bool()
    logits[padding] = 25.0
    is_replaced[padding] = 0.0
    return logits, is_replaced


def compare_discriminator_loss(module: ModuleType, seed: int, padded: bool) -> None:
    fn = require(module, "discriminator_loss")
    attention_mask = padding_mask(4, 10, padded)
    logits, is_replaced = loss_inputs(seed, attention_mask)
    kind = "with padding" if padded else "no padding"
    compared = msg(f"discriminator_loss(random logits (4, 10), {kind}, seed {seed})")
    mine, theirs = logits.clone().requires_grad_(), logits.clone().requires_grad_()
    got = call(compared, fn, mine, is_replaced, attention_mask)
    expected = discriminator_loss(theirs, is_replaced, attention_mask)
    assert_close(compared, got, expected, atol=1e-5, rtol=1e-5)
    got.backward()
    expected.backward()
    compared = msg(f"gradient of discriminator_loss with respect to the logits ({kind})")
    if mine.grad is None:
        raise Mismatch(compared, expected="a tensor", got="None")
    assert_close(compared, mine.grad, theirs.grad, atol=1e-6, rtol=1e-4)


def discriminator_loss_values(module: ModuleType) -> None:
    for seed in (10, 11):
        compare_discriminator_loss(module, seed, padded=False)


def discriminator_loss_padding(module: ModuleType) -> None:
    for seed in (12, 13):
        compare_discriminator_loss(module, seed, padded=True)


def electra_loss_values(module: ModuleType) -> None:
    fn = require(module, "electra_loss")
    for seed, weight in ((14, 50.0), (15, 1.0), (16, 7.5)):
        batch = Batch(seed, B=4, T=8)
        attention_mask = batch.attention_mask
        logits, is_replaced = loss_inputs(seed, attention_mask)
        compared = msg(f"electra_loss(random batch, discriminator_weight={weight}, seed {seed})")
        gen = [batch.logits.clone().requires_grad_() for _ in range(2)]
        disc = [logits.clone().requires_grad_() for _ in range(2)]
        got = call(compared, fn, gen[0], batch.labels, disc[0], is_replaced, attention_mask,
                   weight)  # fmt: skip
        mlm = F.cross_entropy(gen[1].flatten(0, 1), batch.labels.flatten(), ignore_index=IGNORE)
        expected = mlm + weight * discriminator_loss(disc[1], is_replaced, attention_mask)
        assert_close(compared, got, expected, atol=1e-4, rtol=1e-5)
        got.backward()
        expected.backward()
        for name, mine, theirs in (("generator_logits", gen[0], gen[1]),
                                   ("discriminator_logits", disc[0], disc[1])):  # fmt: skip
            compared = msg(f"gradient of electra_loss(weight {weight}) w.r.t. {name}")
            if mine.grad is None:
                raise Mismatch(compared, expected="a tensor", got="None")
            assert_close(compared, mine.grad, theirs.grad, atol=1e-5, rtol=1e-4)


CHECKS: list[Check] = [
    check(
        "exists",
        (
            "functions corrupt, discriminator_loss and electra_loss",
            "Funktionen corrupt, discriminator_loss und electra_loss",
        ),
        (
            "Define all three functions at the top level of your file, with these names.",
            "Definieren Sie alle drei Funktionen mit diesen Namen auf oberster Ebene Ihrer Datei.",
        ),
        defines_functions,
    ),
    check(
        "corrupt_shapes",
        (
            "corrupt returns (corrupted_ids, is_replaced), both (B, T)",
            "corrupt liefert (corrupted_ids, is_replaced), beide (B, T)",
        ),
        (
            "corrupted_ids is a long tensor of token ids; is_replaced a float tensor of 0.0 and "
            "1.0, e.g. (corrupted != original).float().",
            "corrupted_ids ist ein long-Tensor mit Token-IDs; is_replaced ein float-Tensor aus "
            "0.0 und 1.0, z. B. (corrupted != original).float().",
        ),
        corrupt_shapes,
    ),
    check(
        "corrupt_keeps_the_rest",
        (
            "only the masked positions change; the inputs stay as they were",
            "nur die maskierten Stellen ändern sich; die Eingaben bleiben unverändert",
        ),
        (
            "Start from masked_ids.clone() and write the draws only where labels != -100.",
            "Beginnen Sie mit masked_ids.clone() und schreiben Sie die gezogenen Tokens nur "
            "dorthin, wo labels != -100.",
        ),
        corrupt_keeps_the_rest,
    ),
    check(
        "corrupt_samples",
        (
            "corrupt samples from the generator's distribution",
            "corrupt zieht aus der Verteilung des Generators",
        ),
        (
            "The argmax would give the discriminator the same, too easy fake every time; draw "
            "with torch.multinomial(logits.softmax(-1), 1).",
            "Das argmax gäbe dem Diskriminator immer dieselbe, zu leichte Fälschung; ziehen Sie "
            "mit torch.multinomial(logits.softmax(-1), 1).",
        ),
        corrupt_samples,
    ),
    check(
        "corrupt_exact",
        (
            "corrupt draws exactly what the library draws",
            "corrupt zieht genau dasselbe wie die Bibliothek",
        ),
        (
            "One torch.multinomial call with generator=generator over the masked rows in "
            "row-major order: generator_logits[labels != -100] is (N, vocab).",
            "Ein einziger torch.multinomial-Aufruf mit generator=generator über die maskierten "
            "Zeilen in Zeilen-Reihenfolge: generator_logits[labels != -100] ist (N, vocab).",
        ),
        corrupt_exact,
    ),
    check(
        "corrupt_labels",
        (
            "is_replaced: the token differs from the original (a drawn original is original)",
            "is_replaced: das Token weicht vom Original ab (ein gezogenes Original ist original)",
        ),
        (
            "Compare with the original text, torch.where(labels != -100, labels, masked_ids), "
            "not with masked_ids ([MASK]) and not with 'was masked'; 0.0 at padding.",
            "Vergleichen Sie mit dem Originaltext, torch.where(labels != -100, labels, "
            "masked_ids), nicht mit masked_ids ([MASK]) und nicht mit 'wurde maskiert'; 0.0 beim "
            "Padding.",
        ),
        corrupt_labels,
    ),
    check(
        "corrupt_no_gradient",
        (
            "no gradient flows through the sampling",
            "kein Gradient fließt durch das Ziehen",
        ),
        (
            "ELECTRA is not a GAN: use generator_logits.detach() and build is_replaced from the "
            "ids only, with no straight-through or soft-label trick.",
            "ELECTRA ist kein GAN: Verwenden Sie generator_logits.detach() und bilden Sie "
            "is_replaced nur aus den IDs, ohne Straight-Through- oder Soft-Label-Trick.",
        ),
        corrupt_no_gradient,
    ),
    check(
        "discriminator_loss_values",
        (
            "discriminator_loss equals the library without padding (values, gradients)",
            "discriminator_loss stimmt ohne Padding mit der Bibliothek überein (Werte, Gradienten)",
        ),
        (
            "F.binary_cross_entropy_with_logits(logits, is_replaced) is the mean over tokens, "
            "not the sum.",
            "F.binary_cross_entropy_with_logits(logits, is_replaced) ist der Mittelwert über "
            "die Tokens, nicht die Summe.",
        ),
        discriminator_loss_values,
    ),
    check(
        "discriminator_loss_padding",
        (
            "padding does not count in discriminator_loss",
            "Padding zählt in discriminator_loss nicht",
        ),
        (
            "Select the real tokens first, real = attention_mask.bool(), then average over "
            "logits[real]; dividing a masked sum by B * T is also wrong.",
            "Wählen Sie zuerst die echten Tokens, real = attention_mask.bool(), und mitteln Sie "
            "über logits[real]; eine maskierte Summe durch B * T zu teilen ist ebenfalls falsch.",
        ),
        discriminator_loss_padding,
    ),
    check(
        "electra_loss_values",
        (
            "electra_loss = MLM + weight * detection (values, gradients)",
            "electra_loss = MLM + Gewicht * Erkennung (Werte, Gradienten)",
        ),
        (
            "The MLM cross-entropy averages over the masked positions only (ignore_index=-100), "
            "and discriminator_weight multiplies the detection loss.",
            "Die MLM-Kreuzentropie mittelt nur über die maskierten Stellen (ignore_index=-100), "
            "und discriminator_weight multipliziert den Erkennungsverlust.",
        ),
        electra_loss_values,
    ),
]
