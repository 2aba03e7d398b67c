"""Mistake: model.params holds copies, so optimizer steps never reach the layers."""


class Sequential(Sequential):
    def _flat(self, name):
        return {f"{i}.{k}": v.copy() for i, layer in enumerate(self.layers)
                for k, v in getattr(layer, name).items()}
