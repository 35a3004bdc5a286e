"""Fuzzing across the loaders (scripts/fuzz_loaders.py) and over the CLI argument space (hypothesis).

The loader run uses a small number of cases by default; set LAYERSTUDIO_FUZZ_CASES=10000 (or run the
script directly) for the full run.
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.cli import main as cli_main
from core.structure import limits

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.filterwarnings("ignore")


def _fuzz_module():
    spec = importlib.util.spec_from_file_location("fuzz_loaders", ROOT / "scripts" / "fuzz_loaders.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
def test_loader_fuzz_has_no_unhandled_exception_and_no_hang():
    cases = int(os.environ.get("LAYERSTUDIO_FUZZ_CASES", 150))
    counts = _fuzz_module().run(cases, seed=int(os.environ.get("LAYERSTUDIO_FUZZ_SEED", 3)), timeout=30)
    assert counts["cases"] == cases
    assert counts["unhandled"] == 0 and counts["hangs"] == 0, counts["failures"]
    assert counts["imported_named_modules"] == []
    assert counts["refused"] > 0 and counts["loaded"] > 0  # both outcomes are exercised


def test_json_mutation_reaches_hostile_values():
    import random
    mod = _fuzz_module()
    rng = random.Random(0)
    out = {mod.mutate_json(b'{"a": {"b": [1, 2, 3]}, "c": "x"}', rng) for _ in range(200)}
    assert any(b"antigravity" in o for o in out) and any(b"1e+308" in o or b"1e308" in o for o in out)


# ---------------------------------------------------------------------------------------------- CLI arguments
number_text = (st.integers(-10**25, 10**25).map(str) | st.floats(allow_nan=True, allow_infinity=True).map(repr)
               | st.text(max_size=12) | st.sampled_from(["1e12", "-5", "0", "nan", "1_000", " 3", "0x10", "٣"]))
OPTIONS = {"--seed": number_text, "--layers": number_text, "--supercell": number_text | st.sampled_from(
    ["sqrt3", "6x4", "2,1,-1,1", "1,0,0,0", "0x5", "3x", ",,,"]), "--a": number_text, "--c": number_text,
    "--o-height": number_text, "--symprec": number_text}


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(opts=st.dictionaries(st.sampled_from(sorted(OPTIONS)), st.none(), min_size=1, max_size=4).flatmap(
    lambda d: st.fixed_dictionaries({k: OPTIONS[k] for k in d})))
def test_build_options_never_cause_an_internal_error(tmp_path, monkeypatch, capsys, opts):
    # a small machine (200 MB free) so that what fits builds quickly and what does not is refused
    monkeypatch.setattr(limits, "available_bytes", lambda: 200 * 10**6)
    argv = ["build", "--tm", "Co", "-o", str(tmp_path / "x.json")]
    for k, v in opts.items():
        argv.append(f"{k}={v}")
    rc = cli_main(argv)
    err = capsys.readouterr().err.strip()
    assert rc in (0, 1, 2), err
    if rc:
        assert len(err.splitlines()) == 1 and "internal error" not in err


@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from(["anneal", "charge", "paths", "info"]), value=number_text,
       option=st.sampled_from(["--sweeps", "--steps", "--seed", "--limit", "--epsilon", "--symprec", "--t-start"]))
def test_analysis_options_never_cause_an_internal_error(tmp_path, capsys, command, option, value):
    from core.io.project import save_project
    from core.structure.model import Model
    project = tmp_path / "p.json"
    if not project.exists():
        save_project(project, Model.build("O3", "Li", "2", 1, tm_spec="Co"))
    fast = {"anneal": ["--sweeps=20", "-o", str(tmp_path / "o.json")], "charge": ["--steps=2"]}.get(command, [])
    argv = [command, str(project)] + fast + [f"{option}={value}"]
    rc = cli_main(argv)
    err = capsys.readouterr().err.strip()
    assert rc in (0, 1, 2), err
    if rc:
        assert len(err.splitlines()) == 1 and "internal error" not in err
