"""Exercise `pytorch_basics`: a sliding-window Dataset and one training epoch."""
