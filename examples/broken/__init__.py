"""A broken variant of the demo map: the same map, a later delivery with broken extracts."""
