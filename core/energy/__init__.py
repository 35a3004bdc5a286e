"""Electrostatics: the Ewald engine (`ewald`), its tables (`tables`) and the incremental `live` energy."""
