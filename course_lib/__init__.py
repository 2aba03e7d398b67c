"""Backprop from Scratch: a small, readable numpy engine."""
