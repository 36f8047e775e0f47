"""Exercise `graph-neural-networks`: the normalised adjacency matrix and a GCN layer."""
