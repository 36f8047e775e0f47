"""Training building blocks: the learning-rate schedule, atomic checkpoints, and a small
trainer for language models."""
