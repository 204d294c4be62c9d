"""Non-GAN baselines that the GANs are compared with, scored by the same metrics (``tinygan.metrics``).

* ``gmm.GaussianMixture``: a Gaussian mixture fitted by expectation-maximisation. On the 2-D
  mixtures (ring8, grid25) it is the true model family, so it shows what a likelihood-based fit
  of the right form reaches, and what it does when the number of components is wrong.
* ``vae.VAE``: the variational auto-encoder (Kingma & Welling 2014) on MNIST, with the engine: a
  lower bound on log p(x) in nats for held-out images, which a GAN cannot give, and samples that
  show why the literature calls them blurry.
"""
