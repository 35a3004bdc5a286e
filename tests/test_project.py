"""Project files: round trip, version-1 fixtures, atomic writes, and a clear error for every bad file."""
import json
import os
from pathlib import Path

import numpy as np
import pytest
from reference_models import honeycomb_by_hand

from core.errors import ProjectFileError
from core.io.project import decode_occupancy, encode_occupancy, load_project, loads_project, open_model, save_project
from core.structure.model import Model
from core.structure.species import code_of

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def model():
    m = Model.build("O3", "Li", "3", 3, tm_spec="Li:1/3,Mn:2/3", seed=3)
    honeycomb_by_hand(m)
    m.set_oxidation("Mn", 3.5)
    # the Panels helper keeps snapshots in the metadata; numpy arrays must survive as lists
    m.metadata["snapshots"] = [{"name": "before", "occupancy": m.occupancy.copy(), "oxidation": {"Mn": 3.5}},
                               {"name": "empty", "occupancy": [], "oxidation": {}}]
    m.metadata["title"] = "Li2MnO3 - ünïcode ok"
    return m


def test_round_trip_preserves_everything(tmp_path, model):
    path = save_project(tmp_path / "p.json", model)
    back = load_project(path)
    assert np.array_equal(back.occupancy, model.occupancy)
    assert back.occupancy.dtype == np.int8
    assert back.oxidation == model.oxidation and back.oxidation["Mn"] == 3.5
    assert back.supercell.host.to_dict() == model.supercell.host.to_dict()
    assert np.array_equal(back.supercell.matrix, model.supercell.matrix)
    assert back.supercell.layers == 3
    snaps = back.metadata["snapshots"]
    assert [s["name"] for s in snaps] == ["before", "empty"]
    assert snaps[0]["occupancy"] == model.occupancy.tolist()
    assert snaps[0]["oxidation"] == {"Mn": 3.5}
    assert back.metadata["title"] == "Li2MnO3 - ünïcode ok"
    # saving the loaded model again gives the same bytes (stable format)
    again = save_project(tmp_path / "q.json", back)
    assert again.read_bytes() == path.read_bytes()


def test_file_is_versioned_compact_json(tmp_path, model):
    text = save_project(tmp_path / "p.json", model).read_text()
    doc = json.loads(text)
    assert doc["format"] == "layerstudio-project" and doc["version"] == 1
    assert doc["supercell"] == {"matrix": [[3, 0], [0, 3]], "layers": 3}
    # run-length occupancy: fewer runs than sites, and it expands to the 108 sites
    assert sum(n for _, n in doc["occupancy"]) == 108 and len(doc["occupancy"]) < 108


def test_version1_fixture_li2mno3_loads():
    m = load_project(FIXTURES / "project_v1_li2mno3_honeycomb.json")
    assert m.formula() == "Li2MnO3"
    assert m.layer_formula() == "Li[Li1/3Mn2/3]O2"
    sc = m.supercell
    # docs/science.md §2: each TM-layer Li is ringed by six Mn, each Mn has 3 Li + 3 Mn neighbours
    tm = sc.tm_sites
    nn = sc.inplane_shell(tm, 1)
    li_tm = m.occupancy[tm] == code_of("Li")
    assert np.all(m.occupancy[nn[li_tm]] == code_of("Mn"))
    assert np.all((m.occupancy[nn[~li_tm]] == code_of("Li")).sum(axis=1) == 3)
    assert m.metadata["snapshots"][0]["occupancy"] == m.occupancy.tolist()
    from core.structure.symmetry import space_group
    assert space_group(m).number == 12


def test_version1_fixture_p2_keeps_oxidation_states():
    m = load_project(FIXTURES / "project_v1_p2_na_ni_mn.json")
    assert m.supercell.host.stacking == "P2" and m.supercell.layers == 2
    # 3x3 x 2 layers: 18 TM sites = 6 Ni + 12 Mn, 2/3 of the 18 Na_e sites filled, 36 O
    assert m.counts() == {"Na": 12, "Ni": 6, "Mn": 12, "O": 36}
    assert m.oxidation["Ni"] == 3.0 and m.oxidation["Mn"] == 3.5
    # Na2/3 Ni(3+)1/3 Mn(3.5+)2/3 O2: 2/3 + 1 + 7/3 - 4 = 0
    assert m.net_charge == pytest.approx(0.0, abs=1e-12)


def test_rle_round_trip_and_errors():
    occ = np.array([10, 10, 1, 6, 6, 6, 0, 10], dtype=np.int8)
    runs = encode_occupancy(occ)
    assert runs == [["O", 2], ["Li", 1], ["Mn", 3], ["Va", 1], ["O", 1]]
    assert np.array_equal(decode_occupancy(runs, 8), occ)
    with pytest.raises(ValueError, match="7 sites"):
        decode_occupancy(runs[:-1], 8)
    with pytest.raises(ValueError, match="unknown species"):
        decode_occupancy([["Xx", 8]], 8)


def test_atomic_save_keeps_old_file_when_serialisation_fails(tmp_path, model):
    path = save_project(tmp_path / "p.json", model)
    before = path.read_bytes()
    model.metadata["bad"] = object()
    with pytest.raises(ProjectFileError, match="metadata"):
        save_project(path, model)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.json"]


def test_atomic_save_keeps_old_file_when_rename_fails(tmp_path, model, monkeypatch):
    path = save_project(tmp_path / "p.json", model)
    before = path.read_bytes()
    model.set_oxidation("Mn", 4.0)

    def boom(src, dst):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(ProjectFileError, match="No space left"):
        save_project(path, model)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.json"]  # temp file cleaned up


def test_save_into_missing_directory_is_a_clear_error(tmp_path, model):
    with pytest.raises(ProjectFileError, match="cannot write project file"):
        save_project(tmp_path / "nope" / "p.json", model)


def test_future_version_is_refused_and_file_untouched(tmp_path, model):
    path = save_project(tmp_path / "p.json", model)
    doc = json.loads(path.read_text())
    doc["version"] = 3
    path.write_text(json.dumps(doc))
    before, mtime = path.read_bytes(), path.stat().st_mtime_ns
    with pytest.raises(ProjectFileError) as err:
        load_project(path)
    assert "is version 3; this Layer Studio reads up to version 1" in str(err.value)
    assert str(path) in str(err.value)
    assert path.read_bytes() == before and path.stat().st_mtime_ns == mtime


def _mutate(doc, path, value):
    d = doc
    for k in path[:-1]:
        d = d[k]
    if value is KeyError:
        del d[path[-1]]
    else:
        d[path[-1]] = value
    return doc


@pytest.mark.parametrize("path, value, problem", [
    (("format",), "something-else", "not a Layer Studio project"),
    (("version",), "1", "invalid format version"),
    (("version",), 0, "invalid format version"),
    (("host",), KeyError, "missing 'host'"),
    (("host", "stacking"), "Q7", "unknown stacking"),
    (("host", "a"), "2.8", "host.a must be a number"),
    (("host", "c"), 400.0, "implausible"),
    (("supercell", "matrix"), [[1, 0], [0]], "2x2 list of integers"),
    (("supercell", "matrix"), [[1, 0], [0, -1]], "negative determinant"),
    (("supercell", "matrix"), [[9000, 0], [0, 9000]], "needs about .* of memory"),
    (("supercell", "layers"), 2, "at least|multiple|sites"),
    (("supercell", "layers"), True, "supercell.layers must be int"),
    (("n_sites",), 13, "inconsistent"),
    (("occupancy",), [["O", 3], ["Li", 1]], "describes 4 sites"),
    (("occupancy",), [["O", 3], ["Li", 1], ["Mn", 2], ["O", 3], ["Li", -3]], "positive integer"),
    (("occupancy",), [["Mn", 3], ["Li", 1], ["Mn", 2], ["O", 3], ["Li", 3]], "cation sits on an oxygen site"),
    (("occupancy",), [["O", 3], ["O", 1], ["Mn", 2], ["O", 3], ["Li", 3]], "oxygen sits on a cation site"),
    (("oxidation",), {"Mn": "four"}, "oxidation state of Mn"),
    (("oxidation",), {"Unobtainium": 1}, "unknown species"),
    (("oxidation",), [], "oxidation must be an object"),
    (("metadata",), "x", "metadata must be an object"),
])
def test_bad_content_names_the_problem(tmp_path, path, value, problem):
    doc = json.loads((FIXTURES / "project_v1_li2mno3_honeycomb.json").read_text())
    if path == ("supercell", "layers") and value == 2:
        doc["n_sites"] = 24
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(_mutate(doc, path, value)))
    with pytest.raises(ProjectFileError, match=problem) as err:
        load_project(f)
    assert str(f) in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("data, problem", [
    (b"", "empty"),
    (b"\xff\xfe\x00garbage", "not UTF-8"),
    (b"[1, 2, 3]", "JSON object"),
    (b'{"format": "layerstudio-project", "version": 1, "host": {', "truncated"),
    (b'{"format": "layerstudio-project", "version": NaN}', "non-finite"),
    (b"[" * 100000, "nested too deeply|truncated|corrupt"),
    (b"{\"version\": 1" + b"9" * 5000 + b"}", "corrupt|not a Layer Studio"),
])
def test_corrupt_bytes_name_the_problem(data, problem):
    with pytest.raises(ProjectFileError, match=problem):
        loads_project(data, name="x.json")


def test_truncated_fixture_is_reported_as_truncated(tmp_path):
    data = (FIXTURES / "project_v1_li2mno3_honeycomb.json").read_bytes()
    f = tmp_path / "t.json"
    f.write_bytes(data[: len(data) // 2])
    with pytest.raises(ProjectFileError, match="truncated"):
        load_project(f)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ProjectFileError, match="cannot read project file"):
        load_project(tmp_path / "missing.json")
    with pytest.raises(ProjectFileError, match="cannot read"):
        load_project(tmp_path)


def test_open_model_dispatches_projects(tmp_path, model):
    path = save_project(tmp_path / "p.json", model)
    m, report = open_model(path)
    assert report is None and np.array_equal(m.occupancy, model.occupancy)
