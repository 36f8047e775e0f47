"""Exercise `mlp`: a linear layer, the exact GELU and Kaiming initialisation."""
