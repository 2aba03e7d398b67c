r"""Chapter 4 exercises: your engine's first network, which solves XOR.

``NeuralNetwork`` has the shape of the classic tutorial class
(``__init__(input_size, hidden_size, output_size, learning_rate)``,
``feedforward``, ``backpropagate``, ``train``), assembled from the pieces
you wrote in chapters 1-3: two ``Dense`` layers, a ``Tanh`` hidden layer (the
chapter's network), a ``Sigmoid`` output and the ``BinaryCrossEntropy`` loss.

.. math::
    A_1 = \tanh(X W_1 + b_1), \quad \hat{y} = \sigma(A_1 W_2 + b_2), \quad
    L = \mathrm{BCE}(y, \hat{y})

Training is plain gradient descent on the whole batch: forward, loss,
backward through the layers (each fills its ``grads``), then every parameter
moves against its gradient, :math:`w \leftarrow w - \text{lr}\, \partial L /
\partial w`.

When chapter 4 is graded, the reference versions of chapters 1-3 may stand in
for yours (a mistake there costs points only there); when you run your
engine, your own files are used.

Use numpy only. Check your work with ``course grade ch04``.
"""

import numpy as np
from ch02_loss import BinaryCrossEntropy
from ch03_chain_rule import Dense, Sigmoid, Tanh, backward, forward

#: The four XOR inputs, shape (4, 2), and their labels, shape (4, 1).
XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([[0.0], [1.0], [1.0], [0.0]])


class NeuralNetwork:
    """A network with one hidden layer, trained by full-batch gradient descent.

    Parameters
    ----------
    input_size, hidden_size, output_size : int
        Layer widths (2, 4 and 1 for XOR).
    learning_rate : float
        Step size of gradient descent.
    seed : int
        The first ``Dense`` layer gets ``seed``, the second ``seed + 1``.

    Attributes
    ----------
    layers : list
        ``[Dense(input_size, hidden_size), Tanh(), Dense(hidden_size,
        output_size), Sigmoid()]``, your own layers.
    loss : BinaryCrossEntropy
    learning_rate : float
    """

    def __init__(self, input_size, hidden_size, output_size, learning_rate, seed=0):
        """Build the four layers and the loss (see the class docstring)."""
        # BEGIN SOLUTION: the four layers (seeds seed, seed + 1), the loss and the rate
        self.layers = [Dense(input_size, hidden_size, seed=seed), Tanh(),
                       Dense(hidden_size, output_size, seed=seed + 1), Sigmoid()]
        self.loss = BinaryCrossEntropy()
        self.learning_rate = float(learning_rate)
        # END SOLUTION

    def feedforward(self, X):
        """The network's output for a batch.

        Parameters
        ----------
        X : ndarray, shape (N, input_size)

        Returns
        -------
        y_hat : ndarray, shape (N, output_size)
            Probabilities in (0, 1).
        """
        # BEGIN SOLUTION: run X through the layers
        return forward(self.layers, X)
        # END SOLUTION

    def backpropagate(self, X, y):
        """One step of gradient descent on the batch ``(X, y)``.

        Forward pass, loss, the loss's gradient, backward through every layer,
        then each parameter of each layer moves by ``-learning_rate`` times its
        gradient, **in place** (``p -= ...``, so the layer keeps its arrays).

        Parameters
        ----------
        X : ndarray, shape (N, input_size)
        y : ndarray, shape (N, output_size)
            Targets in {0, 1}.

        Returns
        -------
        float
            The loss **before** the update.
        """
        # BEGIN SOLUTION: forward, loss, backward from its gradient; then the update
        y_hat = self.feedforward(X)
        loss = self.loss.loss(y, y_hat)
        backward(self.layers, self.loss.grad(y, y_hat))
        for layer in self.layers:
            for key, param in layer.params.items():
                param -= self.learning_rate * layer.grads[key]
        return loss
        # END SOLUTION

    def train(self, X, y, epochs):
        """Train for ``epochs`` full-batch steps.

        Returns
        -------
        list of float
            The loss of every epoch (before its update), ``epochs`` of them.
        """
        # BEGIN SOLUTION: one backpropagate per epoch, keeping each loss
        return [self.backpropagate(X, y) for _ in range(epochs)]
        # END SOLUTION

    def predict(self, X):
        """Class labels: 1 where the output is above 0.5, else 0.

        Returns
        -------
        ndarray of int, shape (N, output_size)
        """
        # BEGIN SOLUTION: threshold the output at 0.5, as integers
        return (self.feedforward(X) > 0.5).astype(int)
        # END SOLUTION


def train_xor(seed=0):
    """A ``NeuralNetwork(2, 4, 1, ...)`` trained until it gets all four XOR points.

    Choose the learning rate and the number of epochs yourself (the chapter's
    experiments tell you what works); training must take under 10 seconds.

    Parameters
    ----------
    seed : int
        Passed to the network.

    Returns
    -------
    NeuralNetwork
        A trained network whose ``predict(XOR_X)`` equals ``XOR_Y``.
    """
    # BEGIN SOLUTION: a 2-4-1 network, a learning rate that works, enough epochs
    net = NeuralNetwork(2, 4, 1, learning_rate=1.0, seed=seed)
    net.train(XOR_X, XOR_Y, 1000)
    return net
    # END SOLUTION
