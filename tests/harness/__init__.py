"""Test and benchmark harnesses that are not part of the product: :mod:`tests.harness.replay`
(the simulated stage replayed offline into a synchronizer with a pinned clock)."""

__all__ = ["replay"]
