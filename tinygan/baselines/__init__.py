"""Non-GAN baselines that the GANs are compared with, scored by the same metrics (``tinygan.metrics``).

* ``gmm.GaussianMixture``: a Gaussian mixture fitted by expectation-maximisation. On the 2-D
  mixtures (ring8, grid25) it is the true model family, so it shows what a likelihood-based fit
  of the right form reaches, and what it does when the number of components is wrong.
"""
