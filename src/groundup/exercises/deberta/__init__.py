"""Exercise `deberta`: disentangled attention with relative position buckets."""
