"""Mistake: returning what fit returns (the History), not the model."""


def train_digits(X, y, seed=0):
    import course_lib as cl

    model = cl.MLP([64, 64, 10], activation="relu", output=None, init="he", seed=seed)
    return model.fit(X / 16.0, y, loss=cl.SoftmaxCrossEntropy(),
                     optimizer=cl.Adam(lr=0.005), epochs=30, batch_size=32,
                     seed=seed, progress=False)
