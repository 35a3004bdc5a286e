"""Property tests: whatever bytes reach `load_project`, the only exception is ProjectFileError.

Corruptions that happen to leave a valid project (a flipped digit in a lattice parameter, a truncation
that only drops trailing whitespace) may load; they must then give a consistent Model.
"""
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import ProjectFileError
from core.io.project import load_project, loads_project
from core.structure.model import Model

FIXTURE = Path(__file__).parent / "fixtures" / "project_v1_li2mno3_honeycomb.json"
VALID = FIXTURE.read_bytes()
VALID_DOC = json.loads(VALID)

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def load_or_error(data: bytes):
    """Returns the Model or the ProjectFileError; any other exception fails the test."""
    try:
        m = loads_project(data, name="fuzz.json")
    except ProjectFileError as exc:
        msg = str(exc)
        assert msg and "\n" not in msg and "fuzz.json" in msg
        return exc
    assert isinstance(m, Model)
    assert m.occupancy.shape == (m.supercell.n_sites,)
    return m


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes(data):
    assert isinstance(load_or_error(data), ProjectFileError)


@FUZZ
@given(st.integers(0, len(VALID) - 1))
def test_truncations(n):
    result = load_or_error(VALID[:n])
    if VALID[:n].strip() != VALID.strip():
        assert isinstance(result, ProjectFileError)
        assert "truncated" in str(result) or "empty" in str(result) or "UTF-8" in str(result)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 7)), min_size=1, max_size=3))
def test_bit_flips(flips):
    data = bytearray(VALID)
    for pos, bit in flips:
        data[pos] ^= 1 << bit
    assert isinstance(load_or_error(bytes(data)), (Model, ProjectFileError))


@FUZZ
@given(json_values)
def test_random_json(value):
    assert isinstance(load_or_error(json.dumps(value).encode()), ProjectFileError)


def _paths(doc, prefix=()):
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, prefix + (i,))
    return out


PATHS = _paths(VALID_DOC)


@FUZZ
@given(st.sampled_from(PATHS), json_values)
def test_valid_file_with_one_field_replaced(path, value):
    doc = json.loads(VALID)
    d = doc
    for k in path[:-1]:
        d = d[k]
    d[path[-1]] = value
    assert isinstance(load_or_error(json.dumps(doc).encode()), (Model, ProjectFileError))


@pytest.mark.parametrize("n", [0, 1, 17, len(VALID) // 2, len(VALID) - 3])
def test_truncated_files_on_disk(tmp_path, n):
    f = tmp_path / "p.json"
    f.write_bytes(VALID[:n])
    with pytest.raises(ProjectFileError):
        load_project(f)
    assert f.read_bytes() == VALID[:n]  # loading never rewrites the file


def test_unmodified_fixture_loads():
    m = load_or_error(VALID)
    assert isinstance(m, Model) and m.formula() == "Li2MnO3"
    assert np.array_equal(m.occupancy, np.array(VALID_DOC["metadata"]["snapshots"][0]["occupancy"]))
