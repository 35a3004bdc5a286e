"""Reading and writing: project files, structure import (CIF/POSCAR/pymatgen JSON), exports."""
