"""Mistake: keys without the layer index, so the second layer's W overwrites the first's."""


class Sequential(Sequential):
    def _flat(self, name):
        return {k: v for layer in self.layers for k, v in getattr(layer, name).items()}
