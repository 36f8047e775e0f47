"""Train the character GPT on several processes: data parallel (DDP) or sharded (FSDP).

    torchrun --nproc_per_node 2 -m groundup.train.distributed --max-iters 200
    torchrun --nproc_per_node 2 -m groundup.train.distributed --max-iters 200 --fsdp

torchrun starts one process per GPU (or per CPU slot) and gives each its RANK, WORLD_SIZE,
LOCAL_RANK and the address of rank 0; `init_process_group` connects them (NCCL between GPUs,
gloo on CPUs). Without torchrun the same command trains in one process, which is the
reference the distributed runs must match. `launch(2, argv)` starts the ranks from Python,
the way torchrun does (used by the tests).

Data parallelism: every rank holds the whole model and draws the same global batch from the
same generator, then trains on its own rows (Trainer.backward). After the backward pass the
gradients are averaged over the ranks, so every rank takes the same optimizer step as one
process that saw the whole batch.

- DDP (DistributedDataParallel) keeps a full copy of weights, gradients and AdamW moments
  on every rank and all-reduces the gradients, bucket by bucket, while backward still runs.
- FSDP (`fully_shard`, --fsdp) keeps only 1/N of each of them per rank: it all-gathers a
  block's weights just before its forward and backward, and reduce-scatters its gradients,
  so each rank updates only its shard. Memory per rank falls by about N, for more traffic.

Outputs in --out (rank 0 writes them): metrics.jsonl, ckpt.pt (DDP and single process;
FSDP's weights and moments are sharded, see `--fsdp`), model.pt (the full final state dict)
and summary.json.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from groundup.data.text import CharTokenizer, read_text, train_val_split
from groundup.files import atomic_write, atomic_write_json
from groundup.models.gpt import GPT, GPTConfig
from groundup.train.trainer import TrainConfig, Trainer


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="a UTF-8 text file (default: the embedded corpus)")
    parser.add_argument("--out", default="runs/gpt-distributed", help="output folder")
    parser.add_argument("--fsdp", action="store_true", help="shard with FSDP instead of DDP")
    parser.add_argument("--n-layer", type=int, default=4)
    parser.add_argument("--n-head", type=int, default=4)
    parser.add_argument("--n-embd", type=int, default=128)
    parser.add_argument("--block-size", type=int, default=64)
    parser.add_argument(
        "--batch-size", type=int, default=12, help="global rows per micro-batch, all ranks"
    )
    parser.add_argument("--grad-accum-steps", type=int, default=1)
    parser.add_argument("--max-iters", type=int, default=2000)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--warmup-iters", type=int, default=100)
    parser.add_argument("--eval-interval", type=int, default=250)
    parser.add_argument("--eval-iters", type=int, default=40)
    parser.add_argument("--log-interval", type=int, default=10, help="steps between records")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--compile", action="store_true", help="torch.compile the model")
    parser.add_argument("--resume", action="store_true", help="continue from --out/ckpt.pt")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def setup() -> torch.device:
    """Join the process group torchrun describes in the environment; returns this rank's
    device. Without WORLD_SIZE in the environment there is no group: one process."""
    cuda = torch.cuda.is_available()
    if "WORLD_SIZE" not in os.environ:
        return torch.device("cuda" if cuda else "cpu")
    dist.init_process_group(backend="nccl" if cuda else "gloo")
    if not cuda:
        return torch.device("cpu")
    device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    torch.cuda.set_device(device)
    return device


def wrap(model: nn.Module, device: torch.device, fsdp: bool) -> nn.Module:
    """DDP or FSDP around the model; unchanged in a single process."""
    if not dist.is_initialized():
        return model
    model.to(device)
    if fsdp:
        from torch.distributed.fsdp import fully_shard

        # one shard group per block (gathered just in time), the rest (embeddings, the tied
        # output layer, the last LayerNorm) in the root group
        for block in model.transformer.h:
            fully_shard(block)
        return fully_shard(model)
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None)


def full_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """Every weight in full on every rank: FSDP's shards are DTensors, gathered here (a
    collective, so all ranks must call it)."""
    state = {}
    for name, value in model.state_dict().items():
        full = value.full_tensor() if hasattr(value, "full_tensor") else value
        state[name.removeprefix("module.")] = full.detach().cpu()
    return state


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.fsdp and args.resume:
        sys.exit("--resume works with DDP: FSDP's checkpoints would need a sharded format")
    device = setup()
    try:
        return train(args, device)
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def train(args: argparse.Namespace, device: torch.device) -> int:
    rank = dist.get_rank() if dist.is_initialized() else 0
    world_size = dist.get_world_size() if dist.is_initialized() else 1
    if args.data:
        text = read_text(args.data, min_chars=20 * (args.block_size + 1))
    else:
        from groundup.data.corpus import load_corpus

        text = load_corpus()
    tokenizer = CharTokenizer.from_text(text)
    train_data, val_data = train_val_split(torch.tensor(tokenizer.encode(text), dtype=torch.int32))

    torch.manual_seed(args.seed)  # the same initial weights on every rank
    model = GPT(
        GPTConfig(
            vocab_size=tokenizer.vocab_size,
            block_size=args.block_size,
            n_layer=args.n_layer,
            n_head=args.n_head,
            n_embd=args.n_embd,
        )
    )
    model = wrap(model, device, args.fsdp)
    cfg = TrainConfig(
        max_iters=args.max_iters,
        batch_size=args.batch_size,
        block_size=args.block_size,
        grad_accum_steps=args.grad_accum_steps,
        lr=args.lr,
        min_lr=args.lr / 10,
        warmup_iters=args.warmup_iters,
        eval_interval=args.eval_interval,
        eval_iters=args.eval_iters,
        log_interval=args.log_interval,
        seed=args.seed,  # the same batches on every rank: each then takes its own rows
        device=str(device),
        compile=args.compile,
    )
    out = Path(args.out)
    checkpoint = None if args.fsdp else out / "ckpt.pt"
    metrics = out / "metrics.jsonl"
    trainer = Trainer(model, train_data, val_data, cfg, checkpoint, None, vars(args), metrics)
    if args.resume:
        trainer.resume()

    from groundup.labs import runner  # the progress bar

    with runner.progress(cfg.max_iters, "train", quiet=args.quiet or rank != 0) as bar:
        result = trainer.fit(bar)
    state = full_state_dict(model)
    if rank == 0:
        atomic_write(out / "model.pt", lambda tmp: torch.save(state, tmp))
        summary = {
            "strategy": "single" if world_size == 1 else "fsdp" if args.fsdp else "ddp",
            "world_size": world_size,
            "backend": dist.get_backend() if dist.is_initialized() else None,
            "steps": result.steps,
            "global_batch": cfg.batch_size * cfg.grad_accum_steps,
            "train_loss": result.train_loss,
            "val_loss": result.val_loss,
            "tokens_per_s": round(result.tokens_per_s),
        }
        atomic_write_json(out / "summary.json", summary)
        print(json.dumps(summary))
    return 0


# ---------------------------------------------------------------------- without torchrun
def launch(world_size: int, *runs: list[str]) -> None:
    """Start world_size processes on this machine and call main(argv) in each, for every argv
    in `runs` in turn (one start-up, which costs seconds, for several runs)."""
    ports = [free_port() for _ in runs]  # a fresh rendezvous for every process group
    mp.start_processes(
        _rank_main, args=(world_size, ports, runs), nprocs=world_size, start_method="spawn"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rank_main(rank: int, world_size: int, ports: list[int], runs: list[list[str]]) -> None:
    # the environment torchrun would set; the CPU cores shared out among the ranks
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // world_size))
    for port, argv in zip(ports, runs, strict=True):
        os.environ.update(
            RANK=str(rank),
            LOCAL_RANK=str(rank),
            WORLD_SIZE=str(world_size),
            MASTER_ADDR="127.0.0.1",
            MASTER_PORT=str(port),
        )
        main(argv)


if __name__ == "__main__":
    sys.exit(main())
