"""Writers, one per artefact: the versioned dataset and catalog, diagrams, exports, the quality report."""
