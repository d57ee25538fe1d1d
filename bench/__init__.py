"""``make bench``: the engine's speed, side by side with the raw SpiffWorkflow library.

A benchmark, not a test: it measures, prints and writes ``bench/results.json``; nothing here
asserts a wall-clock time.
"""
