"""Exercise bert: three pieces of BERT's input side.

1. wordpiece: split one word into vocabulary pieces, greedy longest-match-first.
2. mask_tokens: the masked-language-modelling rule (15 % chosen; of those 80 % [MASK],
   10 % a random id, 10 % unchanged), drawing random numbers in exactly the library's order.
3. bert_embeddings: word + position + token type embeddings, then LayerNorm.

Run `groundup check bert` to compare your functions with groundup.text.wordpiece and
groundup.models.bert / bert_pretraining.

DE: Übung bert: drei Teile der Eingabeseite von BERT. (1) wordpiece: ein Wort gierig mit
dem jeweils längsten Vokabulareintrag zerlegen. (2) mask_tokens: die Maskierungsregel
(15 % ausgewählt; davon 80 % [MASK], 10 % eine zufällige ID, 10 % unverändert), mit
Zufallszahlen in genau der Reihenfolge der Bibliothek. (3) bert_embeddings: Wort-, Positions-
und Segment-Embedding addieren, dann LayerNorm. `groundup check bert` vergleicht Ihre
Funktionen mit der Bibliothek.
"""

from __future__ import annotations

from collections.abc import Collection

import torch
from torch import Tensor


def wordpiece(word: str, vocab: Collection[str], max_input_chars_per_word: int = 100) -> list[str]:
    """The WordPiece tokens of one word (already lower-cased and split from punctuation).

    From the left, take the longest vocabulary entry that is a prefix of the rest of the
    word; every piece after the first is looked up with the prefix "##" (and returned with
    it). If at some point no entry fits, the whole word becomes ["[UNK]"], as does a word
    longer than max_input_chars_per_word. Example with vocab {"un", "##aff", "##able"}:
    "unaffable" -> ["un", "##aff", "##able"].

    DE: Die WordPiece-Tokens eines Wortes. Von links jeweils den längsten Vokabulareintrag
    nehmen, der ein Präfix des Restes ist; jedes Stück nach dem ersten wird mit dem Präfix
    "##" gesucht (und mit ihm zurückgegeben). Passt irgendwann kein Eintrag, wird das ganze
    Wort zu ["[UNK]"], ebenso ein Wort mit mehr als max_input_chars_per_word Zeichen.
    """
    raise NotImplementedError("TODO: greedy longest-match-first")


def mask_tokens(
    input_ids: Tensor,
    special_mask: Tensor,
    mask_id: int,
    vocab_size: int,
    mlm_probability: float = 0.15,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """(inputs, labels), both (B, T) long, from input_ids (B, T); input_ids stays unchanged.

    Draw, in this order, each over the full (B, T) shape with `generator`:
      1. chosen = bernoulli(mlm_probability), but probability 0 where special_mask is True;
      2. to_mask = bernoulli(0.8) & chosen                     -> inputs = mask_id there;
      3. to_random = bernoulli(0.5) & chosen & ~to_mask        -> a random id there,
      4. from randint(vocab_size, (B, T))                         taken at those positions.
    labels = the original id where chosen, -100 everywhere else. Use torch.bernoulli(
    torch.full(shape, p), generator=generator) and torch.randint(..., generator=generator).

    DE: (inputs, labels) aus input_ids (B, T); input_ids bleibt unverändert. Ziehen Sie in
    dieser Reihenfolge mit `generator`: (1) chosen = bernoulli(mlm_probability), 0 an
    Sonderzeichen; (2) to_mask = bernoulli(0.8) & chosen -> mask_id; (3) to_random =
    bernoulli(0.5) & chosen & ~to_mask; (4) randint(vocab_size, (B, T)) liefert dort die
    zufälligen IDs. labels = Original-ID an ausgewählten Stellen, sonst -100.
    """
    raise NotImplementedError("TODO: the 80/10/10 rule")


def bert_embeddings(
    input_ids: Tensor,
    token_type_ids: Tensor,
    word: Tensor,
    position: Tensor,
    token_type: Tensor,
    ln_weight: Tensor,
    ln_bias: Tensor,
    eps: float = 1e-12,
) -> Tensor:
    """BERT's input vectors, (B, T, H): LayerNorm(word[id] + position[t] + token_type[type]).

    input_ids, token_type_ids: (B, T) long; word (V, H), position (P, H), token_type (2, H);
    positions count from 0 at the first token. LayerNorm over H with ln_weight, ln_bias
    (H,) and eps. Gradients must reach all five weight tensors.

    DE: BERTs Eingabevektoren, (B, T, H): LayerNorm(Wort[id] + Position[t] + Segment[typ]).
    Positionen zählen ab 0; LayerNorm über H mit ln_weight, ln_bias und eps. Gradienten
    müssen alle fünf Gewichtstensoren erreichen.
    """
    raise NotImplementedError("TODO: sum the three embeddings, then LayerNorm")
