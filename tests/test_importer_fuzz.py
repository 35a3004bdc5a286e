"""Property-based tests: random and corrupted bytes given to the CIF/POSCAR importer end in
StructureImportError (or, for a corruption that leaves a valid layered oxide, a model) and never in
another exception type."""
from __future__ import annotations

import atexit
import itertools
import shutil
import tempfile
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import StructureImportError
from core.io.importer import import_structure
from core.structure.model import Model

FIX = Path(__file__).parent / "fixtures" / "structures"
VALID = {name: (FIX / name).read_bytes() for name in
         ("LiCoO2_R-3m.cif", "Li2MnO3_C2m.cif", "Na067Ni033Mn067O2_P2.cif", "POSCAR_LiCoO2_hex")}
_DIR = Path(tempfile.mkdtemp(prefix="layerstudio-import-fuzz-"))
_COUNTER = itertools.count()
atexit.register(shutil.rmtree, _DIR, True)
FUZZ = settings(max_examples=50, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

pytestmark = pytest.mark.filterwarnings("ignore")


def _write(data: bytes, name: str) -> Path:
    path = _DIR / f"{next(_COUNTER)}_{name}"
    path.write_bytes(data)
    return path


def assert_imports_or_refuses(path: Path) -> bool:
    """Assert that `path` either imports as a consistent model (returns True) or is refused with a
    one-line StructureImportError (returns False); any other exception propagates and fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model, report = import_structure(path)
        except StructureImportError as exc:
            assert str(exc).strip() and "\n" not in str(exc).strip()
            return False
    assert isinstance(model, Model) and model.occupancy.shape == (model.supercell.n_sites,)
    assert report["stacking"] in ("O3", "P2", "P3", "O2")
    return True


@FUZZ
@given(data=st.binary(min_size=0, max_size=400), name=st.sampled_from(["x.cif", "POSCAR", "x.vasp", "x.dat"]))
def test_random_bytes_are_refused(data, name):
    with pytest.raises(StructureImportError):
        import_structure(_write(data, name))


@FUZZ
@given(text=st.text(max_size=300), name=st.sampled_from(["x.cif", "CONTCAR", "x.txt"]))
def test_random_text_is_refused(text, name):
    with pytest.raises(StructureImportError):
        import_structure(_write(text.encode("utf-8"), name))


@FUZZ
@given(which=st.sampled_from(sorted(VALID)), cut=st.floats(0.0, 1.0))
def test_truncated_files_never_raise_another_type(which, cut):
    data = VALID[which]
    imported = assert_imports_or_refuses(_write(data[: int(cut * len(data))], which))
    if cut == 0.0:
        assert not imported  # an empty file is never a structure


@FUZZ
@given(which=st.sampled_from(sorted(VALID)), flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 7)),
                                                            min_size=1, max_size=4))
def test_bit_flipped_files_never_raise_another_type(which, flips):
    data = bytearray(VALID[which])
    for pos, bit in flips:
        i = min(int(pos * len(data)), len(data) - 1)
        data[i] ^= 1 << bit
    assert_imports_or_refuses(_write(bytes(data), which))


@FUZZ
@given(which=st.sampled_from(sorted(VALID)), junk=st.sampled_from(
    ["nan", "1e308", "-0", "0", "9999999", "?", ".", "'", "loop_", "data_", "\n", "1/0", "inf"]),
    where=st.floats(0.0, 1.0))
def test_token_corruption_never_raises_another_type(which, junk, where):
    # replace one whitespace-separated token by a value that parsers tend to choke on
    tokens = VALID[which].decode().split(" ")
    i = min(int(where * len(tokens)), len(tokens) - 1)
    tokens[i] = junk
    assert_imports_or_refuses(_write(" ".join(tokens).encode(), which))


def test_untouched_fixtures_import():
    assert all(assert_imports_or_refuses(_write(data, name)) for name, data in VALID.items())
