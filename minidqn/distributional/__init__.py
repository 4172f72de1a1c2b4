"""The return as a distribution, not one number: C51's categorical atoms and QR-DQN's quantiles.

`categorical` holds the support of fixed atoms, the projection of the distributional Bellman
target back onto it (Bellemare et al., 2017) and the cross-entropy loss with its gradient;
`quantile` holds QR-DQN's quantile levels and the quantile Huber loss with its gradient (Dabney
et al., 2018), and the same loss with its arrays kept between calls, which the agent uses. Both
know nothing of networks: they take the network's outputs and return a loss and its gradient
with respect to them, as minidqn.nn.losses does for one Q-value.

May import: minidqn.common, minidqn.nn.
"""

from minidqn.distributional.categorical import (
    categorical_loss,
    categorical_projection,
    categorical_support,
    log_softmax,
)
from minidqn.distributional.quantile import (
    QuantileHuberLoss,
    quantile_huber_loss,
    quantile_midpoints,
    quantile_targets,
)

__all__ = ["QuantileHuberLoss", "categorical_loss", "categorical_projection", "categorical_support", "log_softmax", "quantile_huber_loss",
           "quantile_midpoints", "quantile_targets"]
