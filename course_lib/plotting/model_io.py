"""What the figures read from a model, always through the engine's own methods.

No figure runs a layer itself: scores come from ``model.predict_proba`` (or a
one-layer ``Sequential``), the layers' outputs from ``Sequential.activations``
(evaluation mode, no side effects on the layers' caches), weight snapshots from
``get_weights`` / ``set_weights``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import contextmanager

import numpy as np


def as_array_output(out) -> np.ndarray:
    """Model output as floats ``(N,)`` or ``(N, K)``; ``(N, 1)`` is flattened."""
    out = np.asarray(out, dtype=float)
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    return out


def score_function(model) -> Callable[[np.ndarray], np.ndarray]:
    """Turn a model or a callable into ``f(X) -> scores``.

    Preference order: ``predict_proba`` (course_lib models: probabilities, in eval
    mode, without touching the layers' caches); a single layer (``forward`` and
    ``backward``), run by the engine as a one-layer ``Sequential`` in the same way;
    ``predict`` (labels); and finally the object itself if it is callable.
    """
    if hasattr(model, "predict_proba"):
        return model.predict_proba
    if hasattr(model, "forward") and hasattr(model, "backward"):
        from course_lib.models import Sequential

        return lambda X: Sequential([model]).activations(X)[-1]
    if hasattr(model, "predict"):
        return model.predict
    if callable(model):
        return model
    raise TypeError("decision_boundary: model must have predict_proba(X), forward(X) "
                    "or predict(X), or be a callable f(X) -> scores; got "
                    f"{type(model).__name__}")


def layer_outputs(model, X) -> list[np.ndarray]:
    """Output of every layer of ``model`` for ``X``, in evaluation mode, from the
    engine's ``Sequential.activations`` (no side effects on the layers)."""
    if hasattr(model, "activations"):
        return list(model.activations(X))
    from course_lib.models import Sequential

    return Sequential(model.layers).activations(X)


def dense_positions(model) -> list[int]:
    """Indices in ``model.layers`` of the layers that hold a weight matrix ``W``."""
    return [i for i, layer in enumerate(model.layers)
            if "W" in getattr(layer, "params", {})]


def apply_weights(model, weights) -> None:
    """Load one snapshot of weights into ``model`` (in place)."""
    if hasattr(model, "set_weights"):
        model.set_weights(weights)
    elif isinstance(weights, Mapping):
        for key, value in weights.items():
            model.params[key][...] = value
    else:
        raise TypeError("decision_boundary_grid: model has no set_weights(); "
                        "pass weights as a dict {name: array} like model.params")


def copy_weights(model):
    """A copy of ``model``'s weights in the form :func:`apply_weights` accepts."""
    if hasattr(model, "get_weights"):
        weights = model.get_weights()
        if isinstance(weights, Mapping):
            return {k: np.array(v, copy=True) for k, v in weights.items()}
        return [np.array(w, copy=True) for w in weights]
    return {k: np.array(v, copy=True) for k, v in model.params.items()}


@contextmanager
def weights_restored(model):
    """Give ``model`` its own weights back when the block ends (None: no model)."""
    saved = copy_weights(model) if model is not None else None
    try:
        yield
    finally:
        if saved is not None:
            apply_weights(model, saved)
