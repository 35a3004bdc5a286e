"""Cation migration paths: geometry of candidate hops, their electrostatic energy, search."""
