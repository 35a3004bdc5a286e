"""Architecture checks that need no Qt: no import cycle between any two project modules.

import-linter (`lint-imports`, contracts in pyproject.toml) checks layering; this test checks that the
module graph, lazy imports inside functions included, has no strongly connected component larger than
one module (package faces that re-export their own sub-modules are not counted as edges back).
"""
import sys
from pathlib import Path

import pytest

grimp = pytest.importorskip("grimp")
ROOT = Path(__file__).resolve().parents[1]


def _cycles(graph, modules):
    """Tarjan's strongly connected components of the import graph restricted to `modules`."""
    index, low, stack, on, out = {}, {}, [], set(), []
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.find_modules_directly_imported_by(v):
            if w not in modules or w == v.rpartition(".")[0]:
                continue  # outside the project, or a module importing its own package face
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for m in sorted(modules):
        if m not in index:
            visit(m)
    return out


def test_no_import_cycles_between_project_modules():
    sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph("core", "gui", "resources", cache_dir=None)
    modules = {m for m in graph.modules if m.split(".")[0] in ("core", "gui", "resources")}
    # a package face (__init__) importing its children is a re-export, not a cycle
    for m in list(modules):
        for child in graph.find_children(m):
            if graph.direct_import_exists(importer=m, imported=child):
                graph.remove_import(importer=m, imported=child)
    assert _cycles(graph, modules) == []
