"""Exercise ner: entities from BIO tags, entity-level F1, sub-word label alignment."""
