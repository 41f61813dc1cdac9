"""gan_jax: GAN training in JAX, one jitted step per iteration."""
