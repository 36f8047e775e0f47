"""Exercise `calculus`: the numerical gradient and Jacobian by central differences."""
