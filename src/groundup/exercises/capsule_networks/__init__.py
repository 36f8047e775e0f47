"""Exercise `capsule_networks`: squash, routing by agreement and the margin loss, graded against
groundup.nn.capsules (itself checked against a loop-by-loop transcription of the paper)."""
