"""The version store: published versions and their catalog, the reader of a version, the private work area
(frames, source cache, last good extracts)."""
