"""Exercise `attention`: scaled dot-product attention, graded against PyTorch."""
