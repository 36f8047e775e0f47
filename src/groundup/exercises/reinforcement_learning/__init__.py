"""Exercise `reinforcement_learning`: discounted returns and the REINFORCE-with-baseline loss."""
