"""Hostile: softmax sleeps for an hour (wall time, no CPU)."""

import time


def softmax(z):
    time.sleep(3600)
