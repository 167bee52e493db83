"""Reusable SUT building blocks: worker pools, batching, and a simulated SUT for demos and tests."""
