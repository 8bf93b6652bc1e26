"""Compound screening: models trained on a lab's own assay tables (features from RDKit,
ensembles from scikit-learn), scaffold and random cross-validation, and predictions for a
screening library with an uncertainty and an applicability domain (``features``,
``splits``, ``models``), with the assay tables, compound profiles and glycan features
beside them."""
