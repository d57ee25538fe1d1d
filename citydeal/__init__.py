"""Composition root and command line of the City Deal governance engine."""
