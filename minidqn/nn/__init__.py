"""The network and its math, knowing nothing of RL: layers, convolution, losses, optimizers.

`layers` (Linear, ReLU, the MLP over one flat θ), `dueling` (the dueling head), `conv` (Conv2D by im2col,
Flatten, ConvNet), `noisy` (the noisy linear layer: exploration as learnt weights), `losses` (the TD losses and dL/dq), `optim` (SGD and Adam, in place) and
`gradcheck` (central finite differences, the oracle every backward pass is tested against).

May import: minidqn.common.
"""
