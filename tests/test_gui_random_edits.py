"""Seeded random session: thousands of real clicks and drags, presets, undos and redos.

A shadow occupancy is kept independently of the GUI (what each gesture must do, presets from core on
a copy, undo/redo as a stack of snapshots). At the end the document must equal the shadow, the live
Ewald energy must equal a from-scratch engine, the Li-O-Li readout a fresh OxygenEnvironments, and
undoing everything must return the exact initial occupancy and energy.
"""
import time

import numpy as np
import pytest
from gui_helpers import (  # noqa: F401
    assert_close,
    click_site,
    drag_sites,
    fresh_energy,
    make_window,
    neighbour_path,
    wait_engine,
)

from core.structure.model import Model
from core.structure.species import CODE, VACANCY

N_OPS = 2500
PAINT = [CODE["Li"], CODE["Mn"], CODE["Ni"], CODE["Mg"], CODE["Co"], VACANCY]


@pytest.mark.slow
def test_random_session_matches_core(qtbot, isolated_settings, messages):
    from core.analysis.oxygen import OxygenEnvironments
    from core.orderings import preset_occupancy

    rng = np.random.default_rng(20261125)
    model = Model.build("O3", "Li", "6", layers=2, tm_spec="Li:1/3,Mn:2/3", seed=4)
    w = make_window(qtbot, model)
    wait_engine(qtbot, w)
    # the shadow below predicts plain flips: edit charged cells on purpose (Edit > Keep the model neutral
    # off); the compensation that the default adds has its own tests (test_valence, test_gui_valence)
    w.act_keep_neutral.trigger()
    assert not w.editor.keep_neutral
    doc, view = w.document, w.layer_view
    start_occ, start_e = model.occupancy.copy(), w.readouts.energy_eV
    history = [start_occ.copy()]     # shadow undo stack: occupancy after each step
    pos = 0                          # index of the current state in `history`
    counts = dict(click=0, drag=0, preset=0, undo=0, redo=0, layer=0)
    t0 = time.perf_counter()

    def expect(new_occ):
        nonlocal pos
        if not np.array_equal(new_occ, history[pos]):
            del history[pos + 1:]
            history.append(new_occ)
            pos += 1

    for step in range(N_OPS):
        r = rng.random()
        if r < 0.02:
            k = int(rng.integers(w.layer_combo.count()))
            w.layer_combo.setCurrentIndex(k)
            counts["layer"] += 1
            continue
        code = PAINT[rng.integers(len(PAINT))]
        w.palette.set_species(code)
        if r < 0.55:
            site = int(view.sites[rng.integers(len(view.sites))])
            occ = history[pos].copy()
            occ[site] = code
            click_site(qtbot, view, site)
            expect(occ)
            counts["click"] += 1
        elif r < 0.70:
            path = neighbour_path(view, view.sites[rng.integers(len(view.sites))], int(rng.integers(2, 7)), rng)
            occ = history[pos].copy()
            occ[path] = code
            drag_sites(view, path)
            expect(occ)
            counts["drag"] += 1
        elif r < 0.73:
            name = ["honeycomb", "random", "stripe"][rng.integers(3)]
            shadow = doc.model.copy()
            try:
                occ = preset_occupancy(shadow, name, seed=int(step))
            except Exception:
                occ = None   # preset does not fit the current composition: the GUI shows a message
            n_msgs = len(messages)
            w.editor.apply_preset(name, seed=int(step))
            if occ is None:
                assert len(messages) == n_msgs + 1 and messages[-1][0] == "error"
            else:
                expect(np.asarray(occ, dtype=np.int8))
            counts["preset"] += 1
        elif r < 0.88:
            if doc.undo_stack.canUndo():
                w.act_undo.trigger()
                pos -= 1
            counts["undo"] += 1
        else:
            if doc.undo_stack.canRedo():
                w.act_redo.trigger()
                pos += 1
            counts["redo"] += 1
        if step % 250 == 0:
            assert np.array_equal(doc.model.occupancy, history[pos]), f"diverged at step {step}"

    elapsed = time.perf_counter() - t0
    print(f"{N_OPS} random operations {counts} in {elapsed:.1f} s")
    assert counts["click"] > 1000 and counts["drag"] > 300 and counts["preset"] > 30
    m = doc.model
    assert np.array_equal(m.occupancy, history[pos])
    assert doc.undo_stack.index() == pos
    assert_close(w.readouts.energy_eV, fresh_energy(m), tol=1e-8)
    fresh_ox = OxygenEnvironments(m)
    assert np.array_equal(w.readouts.oxygen.li_o_li, fresh_ox.li_o_li)
    # undo everything: exactly the initial occupancy and energy
    while doc.undo_stack.canUndo():
        w.act_undo.trigger()
    assert np.array_equal(m.occupancy, start_occ)
    assert_close(w.readouts.energy_eV, start_e, tol=1e-8)
    assert_close(w.readouts.energy_eV, fresh_energy(m), tol=1e-8)
    assert not doc.modified
