"""The interactive map page and its script, inlined into each diagrams/map.html."""
