"""Hostile: calls sys.exit while the module is imported."""

import sys

sys.exit(0)
