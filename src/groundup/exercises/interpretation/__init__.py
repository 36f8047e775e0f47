"""Exercise `interpretation`: gradient saliency and integrated gradients, graded against groundup's own."""
