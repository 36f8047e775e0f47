"""Exercise extractive_qa: the official SQuAD answer normalization, exact match and token F1,
and the best answer span under a length limit."""
