"""Hypothesis settings shared by the engine's property tests."""

from hypothesis import HealthCheck, settings

#: reproducible, no deadline (CI is slow)
PROPERTY = settings(deadline=None, max_examples=40, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
