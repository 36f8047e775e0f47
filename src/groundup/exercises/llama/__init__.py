"""Exercise `llama`: RMSNorm, the SwiGLU feed-forward layer and grouped-query attention."""
