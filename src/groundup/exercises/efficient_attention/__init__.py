"""Exercise `efficient_attention`: a sliding-window mask and attention, and causal linear
attention with running sums, graded against dense references."""
