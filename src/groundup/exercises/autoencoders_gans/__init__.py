"""Exercise `autoencoders_gans`: the VAE's reparameterisation, KL term and loss, and the GAN losses."""
