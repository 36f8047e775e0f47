"""Exercise `siamese_networks`: contrastive loss, triplet loss and batch-hard triplet mining."""
