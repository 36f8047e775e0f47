"""groundup: Transformers and LLMs learned by building them from the ground up."""

__version__ = "0.1.0"
