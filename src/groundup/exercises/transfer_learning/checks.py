"""Checks for the `transfer-learning` exercise: freeze, layer-wise param groups, few-shot draws.

freeze is graded on a network with nested modules and both torch's and groundup's batch
norm: flags, modes, a few AdamW steps (the frozen part must stay bit-identical, torch.equal)
and the running statistics. The param groups are compared with the formula and then, step
by step, with an optimizer built from hand-written groups (torch.equal after every step).
The sampler is graded by its properties (counts, order, seeding, edge cases), not against
one particular draw, so any correct use of the generator passes.
"""

from __future__ import annotations

import copy
from types import ModuleType
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from groundup.exercises.checking import (
    Check,
    Mismatch,
    assert_close,
    assert_true,
    call,
    check,
    describe,
    require,
)
from groundup.i18n import Msg
from groundup.nn.normalization import BatchNorm2d

FUNCTIONS = ["freeze", "layerwise_param_groups", "few_shot_indices"]

REFERENCE = "from groundup.nn.transfer import few_shot_indices, freeze, layerwise_param_groups\n"


class Net(nn.Module):
    """A body with nested blocks and two kinds of batch norm, and a head."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), BatchNorm2d(3), nn.ReLU()),
            nn.Flatten(),
            nn.Sequential(nn.Linear(3 * 4 * 4, 6), nn.BatchNorm1d(6), nn.ReLU()),
        )
        self.head = nn.Linear(6, 3)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.body(x))


def _net(seed: int) -> Net:
    torch.manual_seed(seed)
    net = Net()
    with torch.no_grad():  # running statistics away from their defaults, so drift shows
        for module in net.modules():
            if hasattr(module, "running_mean") and module.running_mean is not None:
                module.running_mean.uniform_(-1, 1)
                module.running_var.uniform_(0.5, 2)
    return net


def _batch(seed: int, n: int = 8) -> tuple[Tensor, Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, 4, 4, generator=g) * 3 + 2, torch.randint(0, 3, (n,), generator=g)


def _frozen_net(module: ModuleType, seed: int) -> Net:
    freeze = require(module, "freeze")
    net = _net(seed)
    label = Msg("freeze(net.body)", "freeze(net.body)")
    returned = call(label, freeze, net.body)
    assert_true(
        Msg("what freeze(net.body) returns", "Rückgabewert von freeze(net.body)"),
        returned is net.body,
        expected="the module itself (net.body)",
        got=describe(returned),
    )
    return net


# ---------------------------------------------------------------- checks, basic to subtle


def check_exists(module: ModuleType) -> None:
    for name in FUNCTIONS:
        require(module, name)


def check_freeze_flags(module: ModuleType) -> None:
    net = _frozen_net(module, 0)
    for name, param in net.body.named_parameters():
        assert_true(
            Msg(f"net.body.{name}.requires_grad after freeze", f"net.body.{name}.requires_grad"),
            not param.requires_grad,
            expected="False",
            got="True",
        )
    for name, param in net.head.named_parameters():
        assert_true(
            Msg(
                f"net.head.{name}.requires_grad (freeze(net.body) must not touch the head)",
                f"net.head.{name}.requires_grad (freeze(net.body) darf den Kopf nicht ändern)",
            ),
            param.requires_grad,
            expected="True",
            got="False",
        )


def check_freeze_modes(module: ModuleType) -> None:
    net = _net(1)
    net.train()
    freeze = require(module, "freeze")
    call(Msg("freeze(net.body)", "freeze(net.body)"), freeze, net.body)
    for name, sub in net.body.named_modules():
        assert_true(
            Msg(
                f"net.body{'.' + name if name else ''}.training after freeze",
                f"net.body{'.' + name if name else ''}.training nach freeze",
            ),
            not sub.training,
            expected="False (eval mode)",
            got="True (train mode)",
        )
    assert_true(
        Msg("net.head.training after freeze(net.body)", "net.head.training nach freeze(net.body)"),
        net.head.training,
        expected="True: only the frozen part goes into eval mode",
        got="False",
    )


def check_freeze_training_steps(module: ModuleType) -> None:
    net = _frozen_net(module, 2)
    before = copy.deepcopy(net.state_dict())
    optimizer = torch.optim.AdamW(net.parameters(), lr=0.1, weight_decay=0.1)
    for step in range(3):
        x, y = _batch(10 + step)
        loss = F.cross_entropy(net(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    for name, value in net.state_dict().items():
        if name.startswith("body."):
            assert_true(
                Msg(
                    f"{name} after 3 AdamW steps over all parameters (frozen body)",
                    f"{name} nach 3 AdamW-Schritten über alle Parameter (eingefrorener Körper)",
                ),
                torch.equal(value, before[name]),
                expected="bit-identical to its value before training",
                got=f"changed by up to {(value.float() - before[name].float()).abs().max():.3g}",
            )
    assert_true(
        Msg("net.head.weight after 3 AdamW steps", "net.head.weight nach 3 AdamW-Schritten"),
        not torch.equal(net.head.weight, before["head.weight"]),
        expected="changed: the head still learns",
        got="unchanged",
    )


def check_freeze_batch_norm(module: ModuleType) -> None:
    net = _frozen_net(module, 3)
    before = {k: v.clone() for k, v in net.state_dict().items() if "running" in k}
    with torch.no_grad():
        for seed in range(3):
            net(_batch(20 + seed)[0])
    for name, value in net.state_dict().items():
        if name in before:
            assert_close(
                Msg(
                    f"{name} after three forward passes through the frozen body",
                    f"{name} nach drei Vorwärtsdurchläufen durch den eingefrorenen Körper",
                ),
                value,
                before[name],
                atol=0,
                rtol=0,
            )


def _blocks(seed: int, n: int) -> list[nn.Module]:
    torch.manual_seed(seed)
    return [nn.Sequential(nn.Linear(3, 3), nn.Sequential(nn.Linear(3, 3))) for _ in range(n)]


def _groups(module: ModuleType, blocks: list[nn.Module], lr: float, factor: float, **options):
    fn = require(module, "layerwise_param_groups")
    text = f"layerwise_param_groups({len(blocks)} blocks, lr={lr}, factor={factor}"
    text += "".join(f", {k}={v}" for k, v in options.items()) + ")"
    label = Msg(text, text)
    groups = call(label, fn, blocks, lr, factor, **options)
    if not isinstance(groups, list) or not all(
        isinstance(g, dict) and "params" in g for g in groups
    ):
        raise Mismatch(
            label, expected='a list of dicts with "params" and "lr"', got=describe(groups)
        )
    return label, groups


def check_group_rates(module: ModuleType) -> None:
    for n, lr, factor in [(4, 1e-2, 2.0), (3, 0.3, 2.6), (5, 1e-3, 10.0), (1, 0.05, 3.0)]:
        label, groups = _groups(module, _blocks(n, n), lr, factor)
        expected = [lr / factor ** (n - 1 - i) for i in range(n)]
        assert_true(
            label,
            len(groups) == n,
            expected=f"{n} groups, one per block",
            got=f"{len(groups)} groups",
        )
        assert_close(label, [g.get("lr", float("nan")) for g in groups], expected, rtol=1e-12)


def check_group_params(module: ModuleType) -> None:
    blocks = _blocks(7, 4)
    for param in blocks[1].parameters():
        param.requires_grad_(False)  # a frozen block: no group
    blocks[2][0].weight.requires_grad_(False)  # a frozen parameter: left out
    label, groups = _groups(module, blocks, 0.1, 2.0)
    expected = [
        list(blocks[0].parameters()),
        [p for p in blocks[2].parameters() if p.requires_grad],
        list(blocks[3].parameters()),
    ]
    got = [list(g["params"]) for g in groups]
    same = len(got) == len(expected) and all(
        len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))
        for a, b in zip(got, expected, strict=True)
    )
    assert_true(
        label,
        same,
        expected="3 groups: block 0 (4 tensors), block 2 without its frozen weight (3), "
        "block 3 (4); the frozen block 1 gives none",
        got=f"{len(got)} groups with {[len(g) for g in got]} tensors",
    )
    assert_close(label, [g["lr"] for g in groups], [0.1 / 8, 0.1 / 2, 0.1], rtol=1e-12)


def check_group_steps(module: ModuleType) -> None:
    cases: list[tuple[type, dict[str, Any]]] = [
        (torch.optim.SGD, {"momentum": 0.9}),
        (torch.optim.AdamW, {"weight_decay": 0.05, "betas": (0.8, 0.95)}),
    ]
    for optimizer_cls, options in cases:
        ours = _blocks(11, 3)
        theirs = copy.deepcopy(ours)
        label, groups = _groups(module, ours, 0.1, 2.0, **options)
        by_hand = [
            {"params": list(b.parameters()), "lr": 0.1 / 2 ** (2 - i), **options}
            for i, b in enumerate(theirs)
        ]
        opt_ours, opt_theirs = optimizer_cls(groups), optimizer_cls(by_hand)
        x = torch.randn(5, 3, generator=torch.Generator().manual_seed(12))
        for step in range(3):
            for blocks, opt in ((ours, opt_ours), (theirs, opt_theirs)):
                h = x
                for block in blocks:
                    h = torch.tanh(block(h))
                opt.zero_grad()
                h.pow(2).sum().backward()
                opt.step()
            for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
                for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
                    if not torch.equal(pa, pb):
                        raise Mismatch(
                            Msg(
                                f"block {i} after step {step + 1} of {optimizer_cls.__name__} "
                                f"with your groups ({label.en})",
                                f"Block {i} nach Schritt {step + 1} von "
                                f"{optimizer_cls.__name__} mit Ihren Gruppen ({label.en})",
                            ),
                            expected="the same parameters as with hand-built groups "
                            f"(lr 0.1/2**(2-i), {options})",
                            got=f"a difference of up to {(pa - pb).abs().max():.3g}",
                        )


def _draw(module: ModuleType, labels: Tensor, k: int | None, seed: int, text: str) -> Tensor:
    fn = require(module, "few_shot_indices")
    label = Msg(
        f"few_shot_indices({text}, k={k}, seed={seed})",
        f"few_shot_indices({text}, k={k}, seed={seed})",
    )
    got = call(label, fn, labels.clone(), k, seed)
    if not isinstance(got, Tensor) or got.dim() != 1 or got.dtype.is_floating_point:
        raise Mismatch(label, expected="a 1-D integer tensor of positions", got=describe(got))
    return got


def _shuffled_labels(counts: list[int], seed: int) -> Tensor:
    labels = torch.cat([torch.full((c,), i) for i, c in enumerate(counts)])
    return labels[torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))]


def check_sampler_counts(module: ModuleType) -> None:
    for counts, k, seed in [([9, 7, 12], 2, 0), ([5, 5, 5, 5, 6], 5, 1), ([20, 3, 8, 11], 1, 2)]:
        labels = _shuffled_labels(counts, seed)
        text = f"labels with class sizes {counts} in random order"
        got = _draw(module, labels, k, seed, text)
        label = Msg(
            f"examples per class drawn from {text}, k={k}", f"Beispiele pro Klasse ({text}, k={k})"
        )
        valid = bool(((got >= 0) & (got < len(labels))).all())
        assert_true(
            label, valid, expected=f"positions in 0..{len(labels) - 1}", got=str(got.tolist())
        )
        per_class = torch.bincount(labels[got], minlength=len(counts)).tolist()
        assert_true(
            label,
            per_class == [k] * len(counts),
            expected=str([k] * len(counts)),
            got=str(per_class),
        )


def check_sampler_sorted_unique(module: ModuleType) -> None:
    for counts, k, seed in [([10, 12, 9], 4, 3), ([6, 6], 6, 4)]:
        labels = _shuffled_labels(counts, seed)
        got = _draw(module, labels, k, seed, f"labels with class sizes {counts}")
        label = Msg(
            "the order and uniqueness of the positions",
            "Reihenfolge und Eindeutigkeit der Positionen",
        )
        assert_true(
            label,
            len(set(got.tolist())) == len(got),
            expected="no position twice",
            got=str(got.tolist()),
        )
        assert_true(
            label,
            torch.equal(got, got.sort().values),
            expected="sorted ascending",
            got=str(got.tolist()),
        )


def check_sampler_seeded(module: ModuleType) -> None:
    labels = _shuffled_labels([30, 30, 30], 5)
    text = "labels with 3 classes of 30"
    state = torch.random.get_rng_state()
    first = _draw(module, labels, 3, 42, text)
    torch.manual_seed(1234)  # a different global state must not matter
    again = _draw(module, labels, 3, 42, text)
    label = Msg("two draws with seed 42", "zwei Ziehungen mit Seed 42")
    assert_true(
        label, torch.equal(first, again), expected=str(first.tolist()), got=str(again.tolist())
    )
    torch.random.set_rng_state(state)
    draws = {tuple(_draw(module, labels, 3, seed, text).tolist()) for seed in range(8)}
    assert_true(
        Msg("draws with seeds 0 to 7", "Ziehungen mit den Seeds 0 bis 7"),
        len(draws) >= 7,
        expected="(almost) all different: the seed decides the draw",
        got=f"{len(draws)} different draws out of 8",
    )
    counts = torch.zeros(90)
    for seed in range(200):
        counts[_draw(module, labels, 3, seed, text)] += 1
    assert_true(
        Msg(
            "how often each position is drawn over 200 seeds",
            "wie oft jede Position über 200 Seeds gezogen wird",
        ),
        bool((counts > 0).all()),
        expected="every position at least once (each has probability 1/10 per draw)",
        got=f"{int((counts == 0).sum())} positions never drawn",
    )


def check_sampler_edges(module: ModuleType) -> None:
    labels = _shuffled_labels([4, 6, 5], 6)
    got = _draw(module, labels, None, 0, "labels with class sizes [4, 6, 5]")
    assert_close(
        Msg("few_shot_indices(labels, k=None, seed=0)", "few_shot_indices(labels, k=None, seed=0)"),
        got,
        torch.arange(15),
        atol=0,
        rtol=0,
    )
    fn = require(module, "few_shot_indices")
    label = Msg(
        "few_shot_indices(labels with class sizes [4, 6, 5], k=5, seed=0)",
        "few_shot_indices(Labels mit Klassengrößen [4, 6, 5], k=5, seed=0)",
    )
    try:
        result = fn(labels.clone(), 5, 0)
    except ValueError:
        return
    except Exception as error:  # noqa: BLE001 - reported as feedback
        raise Mismatch(
            label,
            expected="ValueError (class 0 has only 4)",
            got=f"{type(error).__name__}: {error}",
        ) from None
    raise Mismatch(label, expected="ValueError (class 0 has only 4 examples)", got=describe(result))


CHECKS: list[Check] = [
    check(
        "exists",
        (
            "functions freeze, layerwise_param_groups and few_shot_indices",
            "Funktionen freeze, layerwise_param_groups und few_shot_indices",
        ),
        (
            "Define all three at the top level of your file, with the signatures of the stub.",
            "Definieren Sie alle drei auf oberster Ebene Ihrer Datei, mit den Signaturen des "
            "Gerüsts.",
        ),
        check_exists,
    ),
    check(
        "freeze_flags",
        (
            "freeze: no parameter of the module requires a gradient, nested ones included",
            "freeze: kein Parameter des Moduls braucht einen Gradienten, auch verschachtelte",
        ),
        (
            "Loop over module.parameters() (it recurses into every submodule) and call "
            "p.requires_grad_(False) on each, weights and biases alike. Touch nothing outside "
            "the module, and return it.",
            "Gehen Sie über module.parameters() (das alle Untermodule einschließt) und rufen "
            "Sie für jeden p.requires_grad_(False) auf, Gewichte wie Biases. Ändern Sie nichts "
            "außerhalb des Moduls, und geben Sie es zurück.",
        ),
        check_freeze_flags,
    ),
    check(
        "freeze_modes",
        (
            "freeze: the module and all its submodules in eval mode, the rest untouched",
            "freeze: das Modul und alle Untermodule im Eval-Modus, der Rest unverändert",
        ),
        (
            "module.eval() switches the module and everything inside it to eval mode. Do not "
            "call it on anything else.",
            "module.eval() schaltet das Modul und alles darin in den Eval-Modus. Rufen Sie es "
            "für nichts anderes auf.",
        ),
        check_freeze_modes,
    ),
    check(
        "freeze_training_steps",
        (
            "freeze: AdamW steps over all parameters leave the frozen part bit-identical",
            "freeze: AdamW-Schritte über alle Parameter lassen den eingefrorenen Teil "
            "bitgenau unverändert",
        ),
        (
            "A parameter without requires_grad gets no .grad, and the optimizer skips it "
            "(weight decay included). Batch-norm buffers change in train mode even without "
            "gradients: freeze must also switch to eval mode.",
            "Ein Parameter ohne requires_grad bekommt kein .grad, und der Optimierer "
            "überspringt ihn (auch beim Weight Decay). Batch-Norm-Puffer ändern sich im "
            "Trainingsmodus auch ohne Gradienten: freeze muss auch in den Eval-Modus schalten.",
        ),
        check_freeze_training_steps,
    ),
    check(
        "freeze_batch_norm",
        (
            "freeze: forward passes leave every batch norm's running statistics unchanged",
            "freeze: Vorwärtsdurchläufe lassen die laufenden Statistiken jeder Batch-Norm "
            "unverändert",
        ),
        (
            "A batch-norm layer in train mode updates running_mean and running_var on every "
            "forward pass. Put the whole module in eval mode (module.eval()), not only the "
            "layers of one class: groundup's BatchNorm2d is not a torch.nn.BatchNorm2d.",
            "Eine Batch-Norm-Schicht im Trainingsmodus ändert running_mean und running_var "
            "bei jedem Vorwärtsdurchlauf. Versetzen Sie das ganze Modul in den Eval-Modus "
            "(module.eval()), nicht nur Schichten einer Klasse: groundups BatchNorm2d ist "
            "kein torch.nn.BatchNorm2d.",
        ),
        check_freeze_batch_norm,
    ),
    check(
        "group_rates",
        (
            "layerwise_param_groups: one group per block, lr / factor ** (blocks - 1 - i)",
            "layerwise_param_groups: eine Gruppe pro Block, lr / factor ** (Blöcke - 1 - i)",
        ),
        (
            "Blocks are in forward order: the LAST one is the head and gets exactly lr, the "
            "one before lr / factor, the first lr / factor ** (len(blocks) - 1). Divide, do "
            "not multiply.",
            "Die Blöcke stehen in Vorwärtsreihenfolge: der LETZTE ist der Kopf und bekommt "
            "genau lr, der davor lr / factor, der erste lr / factor ** (len(blocks) - 1). "
            "Teilen, nicht multiplizieren.",
        ),
        check_group_rates,
    ),
    check(
        "group_params",
        (
            "layerwise_param_groups: frozen parameters left out, no group for a frozen block",
            "layerwise_param_groups: eingefrorene Parameter fehlen, kein Gruppe für einen "
            "eingefrorenen Block",
        ),
        (
            "Take [p for p in block.parameters() if p.requires_grad]; if that list is empty, "
            "skip the block (but still count it for the exponent: the rate depends on the "
            "block's place, not on how many groups came before).",
            "Nehmen Sie [p for p in block.parameters() if p.requires_grad]; ist die Liste "
            "leer, lassen Sie den Block aus (zählen Sie ihn aber für den Exponenten: die Rate "
            "hängt vom Platz des Blocks ab, nicht davon, wie viele Gruppen davor kamen).",
        ),
        check_group_params,
    ),
    check(
        "group_steps",
        (
            "layerwise_param_groups: SGD and AdamW steps equal those with hand-built groups",
            "layerwise_param_groups: SGD- und AdamW-Schritte gleich denen mit von Hand "
            "gebauten Gruppen",
        ),
        (
            "Every extra keyword argument (momentum, weight_decay, betas, ...) belongs in every "
            "group: {'params': params, 'lr': rate, **options}.",
            "Jedes weitere Schlüsselwortargument (momentum, weight_decay, betas, ...) gehört "
            "in jede Gruppe: {'params': params, 'lr': rate, **options}.",
        ),
        check_group_steps,
    ),
    check(
        "sampler_counts",
        (
            "few_shot_indices: exactly k valid positions of every class",
            "few_shot_indices: genau k gültige Positionen jeder Klasse",
        ),
        (
            "Draw per class, not from the whole set: for each c in labels.unique(), take the "
            "positions torch.nonzero(labels == c).flatten(), permute them with your generator "
            "and keep the first k. Return positions, not labels.",
            "Ziehen Sie pro Klasse, nicht aus der ganzen Menge: für jedes c in labels.unique() "
            "die Positionen torch.nonzero(labels == c).flatten(), mit Ihrem Generator "
            "permutiert, davon die ersten k. Geben Sie Positionen zurück, keine Labels.",
        ),
        check_sampler_counts,
    ),
    check(
        "sampler_sorted_unique",
        (
            "few_shot_indices: positions sorted ascending, none twice",
            "few_shot_indices: Positionen aufsteigend sortiert, keine doppelt",
        ),
        (
            "Draw without replacement (a permutation, not torch.randint), then "
            "torch.cat(...).sort().values.",
            "Ziehen Sie ohne Zurücklegen (eine Permutation, nicht torch.randint), dann "
            "torch.cat(...).sort().values.",
        ),
        check_sampler_sorted_unique,
    ),
    check(
        "sampler_seeded",
        (
            "few_shot_indices: the seed alone decides the draw, and every example can be drawn",
            "few_shot_indices: allein der Seed bestimmt die Ziehung, und jedes Beispiel kann "
            "gezogen werden",
        ),
        (
            "Make one generator = torch.Generator().manual_seed(seed) and pass "
            "generator=generator to every torch.randperm; do not use the global random state, "
            "and do not always take the first k of a class.",
            "Erzeugen Sie einen generator = torch.Generator().manual_seed(seed) und übergeben "
            "Sie generator=generator an jedes torch.randperm; benutzen Sie nicht den globalen "
            "Zufallszustand, und nehmen Sie nicht immer die ersten k einer Klasse.",
        ),
        check_sampler_seeded,
    ),
    check(
        "sampler_edges",
        (
            "few_shot_indices: k=None gives every position; too few examples raise ValueError",
            "few_shot_indices: k=None liefert alle Positionen; zu wenige Beispiele ergeben "
            "ValueError",
        ),
        (
            "Handle k=None first: return torch.arange(len(labels)). A slice [:k] of a shorter "
            "list silently returns fewer: check len(members) < k and raise ValueError.",
            "Behandeln Sie k=None zuerst: torch.arange(len(labels)). Ein Ausschnitt [:k] einer "
            "kürzeren Liste liefert stillschweigend weniger: prüfen Sie len(members) < k und "
            "lösen Sie ValueError aus.",
        ),
        check_sampler_edges,
    ),
]
