"""ELECTRA (Clark et al. 2020): pre-training by replaced-token detection.

BERT's MLM learns from the 15 % of positions it masked. ELECTRA learns from every position:

1. A small generator (a BERT with an MLM head, groundup.models.bert_pretraining) fills the
   masked positions by *sampling* from its predictions, which gives plausible fakes.
2. The discriminator (a BERT encoder plus a two-layer head) reads the corrupted text and
   says, for each real token, whether it was replaced:
       head:  logit = w2 . act(W1 h + b1) + b2        (dense, activation, dense_prediction)
3. loss = MLM(generator) + lambda * BCE(discriminator logits, replaced), the BCE averaged
   over the real (non-padding) tokens; the paper uses lambda = 50.

Two details matter. A sampled token that happens to equal the original counts as
"original": the label is whether the token differs, not whether it was sampled. And no
gradient flows through the sampling, so the generator learns only from its MLM loss (it is
not a GAN). The generator and discriminator share their token, position and segment
embeddings (an option; the paper's default), so the generator's MLM signal trains the
discriminator's input layer too. After pre-training the generator is thrown away.

The discriminator's module names are transformers' ElectraForPreTraining's
(electra.*, discriminator_predictions.dense, .dense_prediction) except inside the encoder,
where `to_transformers_state` translates with groundup.models.bert's names;
`generator_to_transformers_state` does the same for the generator and ElectraForMaskedLM.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from groundup.models.bert import ACTIVATIONS, Bert, BertConfig, rename
from groundup.models.bert_pretraining import IGNORE, BertForPreTraining


class ElectraOutput(NamedTuple):
    loss: Tensor  # mlm_loss + discriminator_weight * discriminator_loss
    mlm_loss: Tensor
    discriminator_loss: Tensor
    generator_logits: Tensor  # (B, T, vocab)
    discriminator_logits: Tensor  # (B, T): > 0 means "replaced"
    corrupted_ids: Tensor  # (B, T): what the discriminator read
    is_replaced: Tensor  # (B, T) float: 1 where corrupted_ids differs from the original


class DiscriminatorPredictions(nn.Module):
    """dense -> activation -> dense_prediction: one logit per token."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.activation = ACTIVATIONS[config.hidden_act]
        self.dense_prediction = nn.Linear(config.hidden_size, 1)

    def forward(self, hidden: Tensor) -> Tensor:
        return self.dense_prediction(self.activation(self.dense(hidden))).squeeze(-1)


class ElectraDiscriminator(nn.Module):
    """Encoder + replaced-token head (transformers' ElectraForPreTraining)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.config = config
        self.electra = Bert(config, add_pooling_layer=False)
        self.discriminator_predictions = DiscriminatorPredictions(config)
        self.discriminator_predictions.apply(self.electra._init_weights)

    def forward(
        self,
        input_ids: Tensor,
        attention_mask: Tensor | None = None,
        token_type_ids: Tensor | None = None,
        labels: Tensor | None = None,
    ) -> tuple[Tensor, Tensor | None]:
        """(logits (B, T), loss) where labels (B, T) are 1 = replaced, 0 = original."""
        hidden = self.electra(input_ids, attention_mask, token_type_ids).last_hidden_state
        logits = self.discriminator_predictions(hidden)
        if labels is None:
            return logits, None
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        return logits, discriminator_loss(logits, labels, attention_mask)


def discriminator_loss(logits: Tensor, is_replaced: Tensor, attention_mask: Tensor) -> Tensor:
    """Binary cross-entropy averaged over the real tokens; padding does not count."""
    real = attention_mask.bool()
    return F.binary_cross_entropy_with_logits(logits[real], is_replaced[real].float())


def replaced_labels(corrupted_ids: Tensor, original_ids: Tensor, attention_mask: Tensor) -> Tensor:
    """1.0 where a real token differs from the original. A sample that drew the original
    token back is "original" (0.0): nothing in the text gives it away."""
    return ((corrupted_ids != original_ids) & attention_mask.bool()).float()


def sample_replacements(
    generator_logits: Tensor,
    masked_ids: Tensor,
    labels: Tensor,
    generator: torch.Generator | None = None,
) -> Tensor:
    """masked_ids with every masked position (labels != -100) replaced by a token drawn
    from softmax(generator_logits) there; one torch.multinomial call over those positions in
    row-major order. No gradient flows back through the draw.

    generator_logits: (B, T, vocab), or (N, vocab) for just the N masked positions in
    row-major order (a generator that runs its decoder only where it is needed)."""
    chosen = labels != IGNORE
    if generator_logits.dim() == 3:
        generator_logits = generator_logits[chosen]
    probabilities = generator_logits.detach().float().softmax(dim=-1)  # (N, vocab)
    corrupted = masked_ids.clone()
    if probabilities.shape[0] > 0:
        draws = torch.multinomial(probabilities, 1, generator=generator).squeeze(-1)
        corrupted[chosen] = draws.to(corrupted.device)
    return corrupted


class Electra(nn.Module):
    """Generator and discriminator trained together; keep `discriminator` afterwards."""

    def __init__(
        self,
        generator_config: BertConfig,
        discriminator_config: BertConfig,
        share_embeddings: bool = True,
        discriminator_weight: float = 50.0,
    ) -> None:
        super().__init__()
        if generator_config.vocab_size != discriminator_config.vocab_size:
            raise ValueError("the generator and the discriminator need the same vocabulary")
        self.discriminator_weight = discriminator_weight
        self.generator = BertForPreTraining(generator_config, nsp=False)
        self.discriminator = ElectraDiscriminator(discriminator_config)
        if share_embeddings:
            width = [c.embedding_size or c.hidden_size for c in self.configs]
            if width[0] != width[1]:
                raise ValueError(
                    f"shared embeddings need one width: generator {width[0]}, "
                    f"discriminator {width[1]} (set embedding_size on both)"
                )
            shared = self.discriminator.electra.embeddings
            self.generator.bert.embeddings = shared
            # the generator's tied MLM decoder follows the shared word embeddings
            self.generator.cls.predictions.decoder.weight = shared.word_embeddings.weight

    @property
    def configs(self) -> tuple[BertConfig, BertConfig]:
        return self.generator.config, self.discriminator.config

    def forward(
        self,
        masked_ids: Tensor,
        labels: Tensor,
        attention_mask: Tensor | None = None,
        token_type_ids: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> ElectraOutput:
        """masked_ids, labels (B, T) as from bert_pretraining.mask_tokens: the original id at
        the masked positions, -100 elsewhere. generator: the torch.Generator of the draws."""
        if attention_mask is None:
            attention_mask = torch.ones_like(masked_ids)
        generated = self.generator(masked_ids, attention_mask, token_type_ids, labels=labels)
        assert generated.mlm_loss is not None
        return self.detect(
            generated.prediction_logits,
            generated.mlm_loss,
            masked_ids,
            labels,
            attention_mask,
            token_type_ids,
            generator,
        )

    def masked_forward(
        self,
        masked_ids: Tensor,
        labels: Tensor,
        attention_mask: Tensor | None = None,
        token_type_ids: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> ElectraOutput:
        """forward's losses and draws, with the generator's vocabulary-sized decoder run only
        at the N masked positions, the only ones its loss and samples need; generator_logits
        is then (N, vocab). With a small model the decoder is a large share of the work."""
        if attention_mask is None:
            attention_mask = torch.ones_like(masked_ids)
        chosen = labels != IGNORE
        hidden = self.generator.bert(masked_ids, attention_mask, token_type_ids).last_hidden_state
        generator_logits = self.generator.cls.predictions(hidden[chosen])
        mlm_loss = F.cross_entropy(generator_logits, labels[chosen])
        return self.detect(
            generator_logits,
            mlm_loss,
            masked_ids,
            labels,
            attention_mask,
            token_type_ids,
            generator,
        )

    def detect(
        self,
        generator_logits: Tensor,
        mlm_loss: Tensor,
        masked_ids: Tensor,
        labels: Tensor,
        attention_mask: Tensor,
        token_type_ids: Tensor | None,
        generator: torch.Generator | None,
    ) -> ElectraOutput:
        """The half both forwards share: sample the fakes, label what differs, discriminate."""
        corrupted = sample_replacements(generator_logits, masked_ids, labels, generator)
        original_ids = torch.where(labels != IGNORE, labels, masked_ids)
        is_replaced = replaced_labels(corrupted, original_ids, attention_mask)
        logits, bce = self.discriminator(corrupted, attention_mask, token_type_ids, is_replaced)
        assert bce is not None
        total = mlm_loss + self.discriminator_weight * bce
        return ElectraOutput(total, mlm_loss, bce, generator_logits, logits, corrupted, is_replaced)


def to_transformers_state(discriminator: ElectraDiscriminator) -> dict[str, Tensor]:
    """Our discriminator's tensors under transformers' ElectraForPreTraining names."""
    state = {}
    for name, tensor in discriminator.state_dict().items():
        if name.startswith("electra."):
            inner = rename(name.removeprefix("electra."), to_ours=False)
            inner = inner.replace("embedding_projection.", "embeddings_project.", 1)
            name = "electra." + inner
        state[name] = tensor
    return state


GENERATOR_HEAD_NAMES = {
    "cls.predictions.transform.": "generator_predictions.",
    "cls.predictions.bias": "generator_lm_head.bias",
    "cls.predictions.decoder.weight": "generator_lm_head.weight",  # tied: the embeddings
}


def generator_to_transformers_state(generator: BertForPreTraining) -> dict[str, Tensor]:
    """The generator's tensors under transformers' ElectraForMaskedLM names (its head is
    BERT's MLM head: dense, GELU, LayerNorm, then the tied decoder plus a bias)."""
    state = {}
    for name, tensor in generator.state_dict().items():
        if name.startswith("bert."):
            inner = rename(name.removeprefix("bert."), to_ours=False)
            name = "electra." + inner.replace("embedding_projection.", "embeddings_project.", 1)
        for ours, theirs in GENERATOR_HEAD_NAMES.items():
            if name.startswith(ours):
                name = theirs + name.removeprefix(ours)
        state[name] = tensor
    return state
