"""Hostile: loops forever while the module is imported."""

while True:
    pass
