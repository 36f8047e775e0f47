"""Reinforcement learning: a CartPole environment in NumPy and REINFORCE with a baseline."""
