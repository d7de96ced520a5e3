"""Data contracts: canonical tables, staged (per-source) tables, check catalogue. The bottom of the house."""
