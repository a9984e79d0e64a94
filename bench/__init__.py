"""Benchmarks: scripts that print figures (capacity, measurement fidelity, scaling, ear accuracy)."""
