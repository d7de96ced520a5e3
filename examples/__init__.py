"""The embedded examples: the demo map config and the generator of its partner extracts."""
