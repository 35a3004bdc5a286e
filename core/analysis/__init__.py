"""Analyses of a model: capacity split, state of charge, oxygen (Li-O-Li) environments."""
