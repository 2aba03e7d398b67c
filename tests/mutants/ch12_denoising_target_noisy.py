"""Mistake: the denoising autoencoder's target set to the noisy input, so the
network only learns to copy the noise."""


def denoising_pair(X, noise_std, rng):
    X_in = X + rng.normal(0.0, noise_std, size=X.shape)
    return X_in, X_in
