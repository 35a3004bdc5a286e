"""Named exceptions of the science core.

Every error a user can provoke with bad input is a subclass of `LayerStudioError`; the CLI and the GUI
show its message (one line) and never a traceback.
"""


class LayerStudioError(Exception):
    """Base class for all expected, user-facing errors."""


class SpeciesError(LayerStudioError, KeyError):
    """Unknown species symbol or missing oxidation state."""

    def __str__(self):  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class CompositionError(LayerStudioError, ValueError):
    """A composition string that cannot be parsed or realised on a supercell."""


class SupercellError(LayerStudioError, ValueError):
    """An invalid supercell matrix, layer count or an impossible host parameter."""


class EditError(LayerStudioError, ValueError):
    """An edit (list of flips) that refers to sites or species that do not exist."""


class ProjectFileError(LayerStudioError):
    """A project file that is corrupt, truncated, of a future version or unreadable."""


class StructureImportError(LayerStudioError):
    """A CIF/POSCAR that cannot be read or is not a layered oxide Layer Studio can map."""


class ExportError(LayerStudioError):
    """A structure export that cannot be written (unknown file type, unwritable path)."""


class SymmetryError(LayerStudioError):
    """spglib could not determine a space group at the given tolerance."""


class OrderingError(LayerStudioError, ValueError):
    """An ordering preset that is incompatible with the composition, supercell or stacking."""


class ResourceLimitError(LayerStudioError):
    """A request that would exceed the memory or time budget (estimate given in the message)."""


class OxidationStateError(LayerStudioError, ValueError):
    """Oxidation states that cannot make the model neutral, or an invalid maximum oxidation state."""


class MigrationError(LayerStudioError, ValueError):
    """An unknown migration-path kind or an invalid path request."""
