"""Fuzz every loader with mutated files: CIF, POSCAR, pymatgen Structure JSON and project files.

    python scripts/fuzz_loaders.py --cases 10000 --seed 0      # the full run (several minutes)
    LAYERSTUDIO_FUZZ_CASES=10000 pytest -m slow tests/test_loader_fuzz.py   # the same from pytest

Each case takes a valid seed file (the structure fixtures, a P1 export, a pymatgen JSON export, the
project fixtures), applies one to three random mutations (truncation, bit flips, junk tokens, deleted
or repeated lines, inflated counts, for JSON: a random value at a random place, including objects that
name modules) and opens it the way the app does (`open_model`). A case passes if it loads a consistent
model or raises a LayerStudioError with a one-line message. Anything else is an unhandled exception;
a case running past --timeout seconds is a hang. The last line printed is one JSON object with the
counts; the exit status is 1 if any case was unhandled or hung.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import random
import resource
import signal
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FIX = ROOT / "tests" / "fixtures"
JUNK = ["nan", "inf", "-inf", "1e308", "-1", "0", "-0", "99999999999999999999999", "1e-320", "Xx", "?", ".", "'",
        '"', "loop_", "data_", "_cell_length_a", "\n", "1/0", "-2.8", "600000000", "\x00", "é", "Li", "X", "Va"]
HOSTILE_JSON = [{"@module": "antigravity", "@class": "X"}, {"@module": "os", "@class": "system"},
                [], {}, None, True, -1, 10**30, 1e308, "Xx", "", [[1, 2], [3]], {"element": "Xx", "occu": -1}]


class Hang(BaseException):
    """Raised by the timer; a BaseException so that no `except Exception` in a parser swallows it."""


def _alarm(signum, frame):
    raise Hang()


def seeds(work: Path) -> list[tuple[str, bytes]]:
    """(file name, bytes) of valid inputs of every format the app reads."""
    from core.io.export import export_model
    from core.structure.model import Model

    out = [(p.name, p.read_bytes()) for p in sorted((FIX / "structures").iterdir())]
    out += [(p.name, p.read_bytes()) for p in sorted(FIX.glob("project_v1_*.json"))]
    model = Model.build("O3", "Li", "3", 3, tm_spec="Li:1/3,Mn:2/3", seed=1)
    for name in ("export.cif", "export.pmg.json", "POSCAR_export", "export_project.json"):
        export_model(model, work / name)
        out.append((name, (work / name).read_bytes()))
    return out


def _json_paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for k, v in list(doc.items())[:40]:
            yield from _json_paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i in sorted({0, len(doc) // 2, len(doc) - 1}) if doc else ():
            yield from _json_paths(doc[i], prefix + (i,))


def mutate_json(data: bytes, rng: random.Random) -> bytes:
    try:
        doc = json.loads(data)
    except ValueError:
        return data
    paths = list(_json_paths(doc))
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(paths)
        value = copy.deepcopy(rng.choice(HOSTILE_JSON + [rng.uniform(-1e6, 1e6), rng.randint(-10**9, 10**9)]))
        if not path:
            doc = value
            break
        target = doc
        try:
            for key in path[:-1]:
                target = target[key]
            if rng.random() < 0.15 and isinstance(target, (dict, list)):
                del target[path[-1]]
            else:
                target[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            pass
    return json.dumps(doc).encode()


def mutate_text(data: bytes, rng: random.Random) -> bytes:
    kind = rng.randrange(7)
    b = bytearray(data)
    if kind == 0 and b:  # truncate
        return bytes(b[: rng.randrange(len(b))])
    if kind == 1 and b:  # bit flips
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        return bytes(b)
    text = data.decode("utf-8", "replace")
    lines = text.split("\n")
    if kind == 2:  # junk tokens
        tokens = text.split(" ")
        for _ in range(rng.randint(1, 3)):
            tokens[rng.randrange(len(tokens))] = rng.choice(JUNK)
        return " ".join(tokens).encode("utf-8", "replace")
    if kind == 3 and lines:  # delete lines
        for _ in range(rng.randint(1, 3)):
            if lines:
                del lines[rng.randrange(len(lines))]
        return "\n".join(lines).encode()
    if kind == 4 and lines:  # repeat a line many times
        i = rng.randrange(len(lines))
        lines[i:i] = [lines[i]] * rng.choice([2, 10, 1000])
        return "\n".join(lines).encode()
    if kind == 5:  # inflate every integer on one line (atom counts, cell lengths, supercell entries)
        i = rng.randrange(len(lines))
        factor = rng.choice([-1, 0, 10, 10**6, 10**9])
        lines[i] = " ".join(str(int(t) * factor) if t.lstrip("-").isdigit() else t for t in lines[i].split(" "))
        return "\n".join(lines).encode()
    return bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))  # random bytes


def run(cases: int, seed: int = 0, timeout: float = 20.0, verbose: bool = False, slow_s: float = 5.0) -> dict:
    from core.errors import LayerStudioError
    from core.io.project import open_model
    from core.structure.model import Model

    warnings.simplefilter("ignore")
    rng = random.Random(seed)
    signal.signal(signal.SIGALRM, _alarm)
    counts = {"cases": 0, "loaded": 0, "refused": 0, "unhandled": 0, "hangs": 0, "max_case_s": 0.0}
    failures = []
    with tempfile.TemporaryDirectory(prefix="layerstudio-fuzz-") as d:
        work = Path(d)
        pool = seeds(work)
        t0 = time.perf_counter()
        for k in range(cases):
            name, data = pool[k % len(pool)]
            for _ in range(rng.randint(1, 2)):
                use_json = name.endswith(".json") and rng.random() < 0.7
                data = mutate_json(data, rng) if use_json else mutate_text(data, rng)
            path = work / f"case{k % 50}_{name}"
            path.write_bytes(data)
            t = time.perf_counter()
            signal.setitimer(signal.ITIMER_REAL, timeout)
            try:
                model, _ = open_model(path)
                assert isinstance(model, Model) and model.occupancy.shape == (model.supercell.n_sites,)
                counts["loaded"] += 1
            except LayerStudioError as exc:
                msg = str(exc).strip()
                if not msg or "\n" in msg:
                    counts["unhandled"] += 1
                    failures.append((name, f"message not one line: {msg[:200]!r}"))
                else:
                    counts["refused"] += 1
            except Hang:
                counts["hangs"] += 1
                failures.append((name, f"no answer in {timeout} s"))
            except Exception as exc:  # noqa: BLE001 - the point is to catch anything else
                counts["unhandled"] += 1
                failures.append((name, f"{type(exc).__name__}: {exc}"[:300]))
                if verbose:
                    traceback.print_exc()
                (work.parent / f"layerstudio-fuzz-fail-{seed}-{k}-{name}").write_bytes(data)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            counts["cases"] += 1
            dt = time.perf_counter() - t
            counts["max_case_s"] = max(counts["max_case_s"], round(dt, 3))
            if dt > slow_s:
                counts["slow_cases"] = counts.get("slow_cases", 0) + 1
                keep = work.parent / f"layerstudio-fuzz-slow-{seed}-{k}-{name}"
                keep.write_bytes(data)
                if verbose:
                    print(f"slow case {k} ({dt:.1f} s): {keep}", file=sys.stderr, flush=True)
            if verbose and (k + 1) % 500 == 0:
                print(f"{k + 1} cases, {counts}", file=sys.stderr, flush=True)
        counts["seconds"] = round(time.perf_counter() - t0, 1)
    counts["imported_named_modules"] = sorted(m for m in ("antigravity",) if m in sys.modules)
    counts["peak_rss_MB"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    counts["failures"] = failures[:20]
    return counts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=int(os.environ.get("LAYERSTUDIO_FUZZ_CASES", 10_000)))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds before a case counts as a hang")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    counts = run(args.cases, args.seed, args.timeout, args.verbose)
    for name, why in counts["failures"]:
        print(f"FAIL {name}: {why}")
    print(json.dumps(counts))
    return 1 if counts["unhandled"] or counts["hangs"] or counts["imported_named_modules"] else 0


if __name__ == "__main__":
    sys.exit(main())
