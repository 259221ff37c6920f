"""Onset's style engine: film looks learned from paired comparisons (digital control, film test).

``film`` is the reference film-emulation pipeline that makes the test half of each simulated pair
(docs/film-pipeline.md); ``colour`` holds input encodings, colour difference, and the LUT and CDL
files the looks export (docs/luts.md); ``pairs`` loads and registers the pairs a user brings.
"""
