"""Probability distributions with PyTorch's API (``torch.distributions``).

Normalizing flows and VAEs build on these: ``rsample`` keeps gradients flowing to the
parameters (reparameterisation), ``log_prob`` and ``entropy`` match PyTorch's numbers.
"""

from deepnum.distributions.discrete import Bernoulli, Categorical
from deepnum.distributions.distribution import Distribution
from deepnum.distributions.multivariate import Independent, MultivariateNormal
from deepnum.distributions.normal import Normal, Uniform
from deepnum.distributions import kl
from deepnum.distributions.kl import kl_divergence, register_kl

__all__ = ["Distribution", "Normal", "Uniform", "Categorical", "Bernoulli", "MultivariateNormal", "Independent",
           "kl", "kl_divergence", "register_kl"]
