"""Mistake: the schedule starts one epoch late (rate ** (epoch + 1))."""


def exponential_decay(lr0, epoch, rate):
    return lr0 * rate ** (epoch + 1)
