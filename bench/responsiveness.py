"""Responsiveness of the real window: the longest stall of the GUI thread during each user action.

Run: xvfb-run -a -s "-screen 0 1280x1024x24" .venv/bin/python bench/responsiveness.py [--big] [--quick]

A 5 ms timer on the GUI thread records when it fires; an action's `max_gap_ms` is the longest time
between two ticks from the moment the action is triggered (through the event loop, as a click would
be) until its result is on screen, so the action's own GUI-thread work counts too. `result_s` is the
time until that result is shown: for edits, the Ewald energy and the space group of the new state
(the slowest automatic readout); for Monte Carlo, the end of the run (`start_s`: until a worker runs
it); for the panels, their new content. Models: Li2MnO3 honeycomb 12x12x3 and 24x24x3 and a random
NMC111 (LiNi1/3Mn1/3Co1/3O2) 24x24x3; --big adds the 24x24 -> 48x48 supercell change. During the
Monte Carlo row the migration, XRD and state-of-charge panels float on screen, so they recompute
after the edit just before the click. Goal: no gap above 100 ms; Monte Carlo started within 1 s.

`max_busy_ms` is the most CPU time the GUI thread itself spent between two ticks (time.thread_time):
the window's own longest slot, which a loaded machine does not inflate. On a busy machine the
wall-clock gaps stretch (the GUI thread waits for a core), so judge those on an idle machine; a gap
much longer than its busy time on an idle machine is a wait for the GIL (work holding it in a thread).
--sample-stalls samples the GUI thread's Python stack during stalls and prints where it was.

Prints a table; the last line is JSON {"rows": [{"action", "model", "max_gap_ms", "max_busy_ms",
"result_s", ...}], "load_average": [...], "cores": n}.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

TICK_MS = 5
GOAL_GAP_MS = 100.0


class Heartbeat:
    """Ticks of a 5 ms GUI-thread timer. With `dump_file`, every stall longer than `dump_after_s`
    writes the Python stacks of all threads there (faulthandler's watchdog needs no GIL), to find
    what held the GUI thread."""

    def __init__(self, dump_file=None, dump_after_s: float = 0.2):
        from PySide6.QtCore import Qt, QTimer
        self.ticks: list[float] = []
        self.cpu: list[float] = []     # GUI-thread CPU time (time.thread_time) at each tick
        self.dump_file, self.dump_after_s = dump_file, dump_after_s
        self.timer = QTimer()
        self.timer.setTimerType(Qt.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        self.cpu.append(time.thread_time())
        self.ticks.append(time.perf_counter())
        if self.dump_file is not None:
            import faulthandler
            faulthandler.dump_traceback_later(self.dump_after_s, file=self.dump_file)

    def max_gap_ms(self, t0: float, t1: float) -> float:
        ts = [t0] + [t for t in self.ticks if t0 <= t <= t1] + [t1]
        return 1000.0 * max(b - a for a, b in zip(ts, ts[1:]))

    def max_busy_ms(self, t0: float, t1: float) -> float:
        """The most GUI-thread CPU time spent between two consecutive ticks: the longest stall the
        window's own work caused, whatever else the machine runs (a busy machine only stretches the
        wall-clock gaps). A wait for the GIL held by another thread costs no CPU here: that shows in
        the wall-clock gap only."""
        import bisect
        i0 = bisect.bisect_left(self.ticks, t0)
        i1 = bisect.bisect_right(self.ticks, t1)
        c = self.cpu[max(i0 - 1, 0):min(i1 + 1, len(self.cpu))]
        return 1000.0 * max((b - a for a, b in zip(c, c[1:])), default=0.0)

    def worst_gap(self, t0: float, t1: float) -> tuple[float, float]:
        """(start, end) perf_counter times of the longest gap between t0 and t1."""
        ts = [t0] + [t for t in self.ticks if t0 <= t <= t1] + [t1]
        k = max(range(len(ts) - 1), key=lambda i: ts[i + 1] - ts[i])
        return ts[k], ts[k + 1]


class StallSampler:
    """A sampling profiler of the GUI thread during stalls: a thread looks every `every_s` and, while
    the heartbeat is more than `after_s` late, records the GUI thread's Python stack. `report(t0, t1)`
    says where the GUI thread was during the longest gap of that interval (the frames of this project,
    innermost last, with the number of samples). The sampler needs the GIL to look: a C call holding
    it (spglib) shows up as the frame that called it, sampled once the call returns."""

    def __init__(self, heartbeat: Heartbeat, after_s: float = 0.03, every_s: float = 0.002):
        import threading
        self.hb, self.after_s, self.every_s = heartbeat, after_s, every_s
        self.gui_ident = threading.get_ident()
        self.samples: list[tuple[float, tuple[str, ...]]] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name="stall-sampler")
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            ticks = self.hb.ticks
            if not ticks:
                continue
            now = time.perf_counter()
            if now - ticks[-1] < self.after_s:
                continue
            frame = sys._current_frames().get(self.gui_ident)
            stack = []
            while frame is not None:
                code = frame.f_code
                fn = code.co_filename
                if ("/core/" in fn or "/gui/" in fn or "pyqtgraph" in fn) and "/bench/" not in fn:
                    short = fn[fn.rfind("/gui/") + 1:] if "/gui/" in fn else fn[fn.rfind("/") + 1:]
                    if "/core/" in fn:
                        short = fn[fn.rfind("/core/") + 1:]
                    stack.append(f"{short}:{frame.f_lineno} {code.co_name}")
                frame = frame.f_back
            self.samples.append((now, tuple(reversed(stack))))

    def report(self, t0: float, t1: float, top: int = 6, depth: int = 7) -> list[str]:
        from collections import Counter
        g0, g1 = self.hb.worst_gap(t0, t1)
        stacks = Counter(st[-depth:] for t, st in self.samples if g0 <= t <= g1 + 0.003)
        n = sum(stacks.values())
        out = [f"    stall {1000 * (g1 - g0):.0f} ms: {n} samples of the GUI thread"]
        for st, k in stacks.most_common(top):
            out.append(f"    {k:4d}x " + (" > ".join(st) if st else "(Qt event loop / C++ only)"))
        return out

    def stop(self) -> None:
        self._stop.set()


class StopBench(Exception):
    """--stop-after: the asked row is done."""


class Bench:
    def __init__(self, studio, heartbeat, errors, sampler=None, sample_above_ms: float = GOAL_GAP_MS):
        self.st, self.hb, self.errors = studio, heartbeat, errors
        self.sampler, self.sample_above_ms = sampler, sample_above_ms
        self.profile: str | None = None   # rows whose action contains this run under cProfile
        self.stop_after: str | None = None   # end the run after the first row whose action contains this
        self.rows: list[dict] = []

    def run_loop_until(self, done, timeout_s: float) -> bool:
        """Run the Qt event loop (not a busy loop: the heartbeat must see real stalls) until done()."""
        from PySide6.QtCore import QEventLoop, QTimer
        loop = QEventLoop()
        ok = [False]
        end = time.perf_counter() + timeout_s

        def check():
            if done():
                ok[0] = True
                loop.quit()
            elif time.perf_counter() > end:
                loop.quit()
        poll = QTimer()
        poll.setInterval(10)
        poll.timeout.connect(check)
        poll.start()
        QTimer.singleShot(0, check)
        loop.exec()
        poll.stop()
        return ok[0]

    def measure(self, action: str, model: str, fn, done, timeout_s: float = 300.0, extra=None) -> dict:
        """fn: one callable, or a list of callables run one per event-loop turn (a drag of the slider,
        frames of the 3D view): the user's events arrive one at a time too."""
        from PySide6.QtCore import QTimer
        self.errors.clear()
        prof = None
        if self.profile and self.profile in action:
            import cProfile
            prof = cProfile.Profile()   # the GUI thread only: what the window itself spends
            prof.enable()
        t0 = time.perf_counter()
        steps = list(fn) if isinstance(fn, (list, tuple)) else [fn]
        left = [len(steps)]

        def run_step(k=0):
            steps[k]()
            left[0] -= 1
            if k + 1 < len(steps):
                QTimer.singleShot(TICK_MS, lambda: run_step(k + 1))
        QTimer.singleShot(0, run_step)
        done_all = done
        done = lambda: left[0] == 0 and done_all()  # noqa: E731
        self.run_loop_until(lambda: time.perf_counter() - t0 > 0.002 and done(), timeout_s)
        t1 = time.perf_counter()
        if prof is not None:
            import io
            import pstats
            prof.disable()
            for order in ("cumulative", "tottime"):
                out = io.StringIO()
                pstats.Stats(prof, stream=out).sort_stats(order).print_stats(25)
                print(f"--- cProfile of the GUI thread during '{action}' ({model}), by {order}")
                print("\n".join(ln for ln in out.getvalue().splitlines()[6:] if ln.strip()))
        row = {"action": action, "model": model, "max_gap_ms": round(self.hb.max_gap_ms(t0, t1), 1),
               "max_busy_ms": round(self.hb.max_busy_ms(t0, t1), 1), "result_s": round(t1 - t0, 3)}
        if extra:
            row.update(extra() if callable(extra) else extra)
        if self.errors:
            row["error"] = self.errors[0][:120]
        if t1 - t0 >= timeout_s:
            row["timeout"] = True
        self.rows.append(row)
        print(f"  {action:<34} {model:<22} gap {row['max_gap_ms']:8.1f} ms  busy {row['max_busy_ms']:6.1f} ms"
              f"   result {row['result_s']:8.3f} s"
              + (f"   start {row['start_s']:.3f} s" if "start_s" in row else "")
              + (f"   {row.get('error', '')}" if "error" in row else ""), flush=True)
        if self.sampler is not None and row["max_gap_ms"] > self.sample_above_ms:
            print("\n".join(self.sampler.report(t0, t1)), flush=True)
        self.idle()
        if self.stop_after and self.stop_after in action:
            raise StopBench
        return row

    def idle(self, timeout_s: float = 300.0) -> None:
        self.run_loop_until(lambda: not self.st.busy(), timeout_s)

    # ------------------------------------------------------------------ results
    def shown_current(self) -> bool:
        """The energy and space group of the current document state are on screen."""
        w = self.st.window
        live = w.analysis.document_live
        return (live.ewald is not None and "space_group" in live.results
                and w.readouts.values.get("ewald_eV_per_MO2") is not None and not w.readouts.pending())


def build_models(big: bool):
    from core.orderings import preset_occupancy
    from core.structure.model import Model

    def li2mno3(n):
        m = Model.build("O3", "Li", str(n), layers=3, tm_spec="Li:1/3,Mn:2/3", seed=1)
        m.occupancy[:] = preset_occupancy(m, "honeycomb")
        return m

    models = [("Li2MnO3 12x12x3", li2mno3(12)), ("Li2MnO3 24x24x3", li2mno3(24)),
              ("NMC111 random 24x24x3", Model.build("O3", "Li", "24", layers=3,
                                                     tm_spec="Ni:1/3,Mn:1/3,Co:1/3", seed=3))]
    return models


def bench_model(b: Bench, name: str, model, tmp: Path, big: bool, quick: bool) -> None:
    import numpy as np
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from core.io.project import save_project
    from core.orderings import PRESETS
    from core.structure.species import CODE, VACANCY

    st = b.st
    w = st.window
    panels = w.panels
    path = tmp / (name.replace(" ", "_") + ".json")
    save_project(path, model)
    print(f"{name}: {model.supercell.n_sites} sites", flush=True)

    b.measure("open", name, lambda: w.files.open_path(str(path), ask=False),
              lambda: w.document.path == str(path) and b.shown_current())
    sc = w.document.model.supercell
    rng = np.random.default_rng(0)
    tm_sites = np.flatnonzero(sc.role == "tm")
    tm_layer0 = tm_sites[sc.layer[tm_sites] == 0]

    def click():
        site = int(rng.choice(tm_layer0))
        w.palette.set_species(CODE["Ni"])
        QTest.mouseClick(w.layer_view.viewport(), Qt.LeftButton, pos=w.layer_view.viewport_pos(site))

    st.set_layer("tm", 1)
    b.idle()
    depth = w.document.undo_stack.index()
    b.measure("click", name, click, lambda: w.document.undo_stack.index() > depth and b.shown_current())
    sites = [int(s) for s in rng.choice(tm_layer0, 20, replace=False)]
    b.measure("drag-paint 20 sites", name, lambda: w.editor.paint_finished(sites),
              lambda: b.shown_current())
    b.measure("undo", name, w.act_undo.trigger, b.shown_current)
    b.measure("redo", name, w.act_redo.trigger, b.shown_current)
    w.act_undo.trigger()
    w.act_undo.trigger()   # back to the opened composition: every preset applies
    b.idle()
    for preset in (PRESETS if not quick else ["honeycomb", "random"]):
        b.measure(f"preset {preset}", name, lambda p=preset: w.editor.apply_preset(p),
                  lambda: not w.runner.keys.get("preset") and b.shown_current())

    # Monte Carlo with the migration, XRD and state-of-charge panels floating on screen
    floats = ("migration", "xrd", "charge")
    for key in floats:
        panels.docks[key].setFloating(True)
        panels.docks[key].show()
        panels.docks[key].raise_()
    panels.show_dock("mc")
    b.idle(600)
    mc = panels.mc
    mc.sweeps.setValue(2000)
    t_click = {}

    def edit_then_run():
        w.editor.paint_finished([int(rng.choice(tm_layer0))])   # other panels now have work queued
        t_click["t"] = time.monotonic()
        mc.start_btn.click()

    def started():
        # the run has started when its first progress record (after the set-up and the first sweeps
        # in the Monte Carlo process) is on screen
        if "started" not in t_click and mc.trace:
            t_click["started"] = time.monotonic()
        return "started" in t_click

    b.measure("Monte Carlo run (panels open)", name, edit_then_run,
              lambda: started() and mc.task is None and bool(mc.best),
              extra=lambda: {"start_s": round(t_click["started"] - t_click["t"], 3)})
    b.measure("Monte Carlo apply", name, mc.apply_btn.click, b.shown_current)
    for key in floats:
        panels.docks[key].setFloating(False)
    b.idle(600)

    # remove three Li, then ask for the migration paths
    panels.show_dock("migration")
    b.idle(600)
    li = np.flatnonzero(w.document.model.occupancy == CODE["Li"])
    li = li[w.document.model.supercell.role[li] != "tm"][:3]
    b.measure("remove 3 Li", name, lambda: w.document.edit([(int(s), VACANCY) for s in li], "Remove 3 Li"),
              b.shown_current)
    got = []
    panels.migration.sigPathsUpdated.connect(got.append)
    b.measure("migration refresh", name, panels.migration.refresh_btn.click, lambda: bool(got),
              extra=lambda: {"paths": got[-1] if got else None})

    # state-of-charge slider: ten moves
    panels.show_dock("charge")
    b.idle(600)
    ch = panels.charge

    if ch.cm is not None:
        moves = [lambda k=int(k): ch.slider.setValue(k) for k in np.linspace(1, max(ch.cm.n_steps, 1), 10)]
        b.measure("state-of-charge slider x10", name, moves, lambda: True)
        ch.slider.setValue(0)
    b.idle()

    xrd = []
    panels.xrd.sigUpdated.connect(xrd.append)
    b.measure("XRD", name, lambda: panels.show_dock("xrd"), lambda: bool(xrd), timeout_s=600)

    frames = [lambda: panels.show_dock("view3d")]
    if panels.has_3d:
        frames += [lambda: (panels.view3d.orbit(3.0, 0.0), panels.view3d.repaint())] * 10
    b.measure("3D view (show + 10 frames)", name, frames, lambda: True)
    b.measure("lab mode on", name, panels.lab.toggle, lambda: panels.lab.active)
    b.measure("lab mode off", name, panels.lab.toggle, lambda: not panels.lab.active and not panels.lab.restoring())
    out = tmp / "saved.json"
    b.measure("save", name, lambda: w.files.save_to(str(out)), lambda: out.exists())
    cif = tmp / (name.replace(" ", "_") + ".cif")
    b.measure("export CIF", name, lambda: w.files.export_to(str(cif), "cif"),
              lambda: cif.exists() and not w.runner.busy())
    panels.show_dock("mc")   # cover the XRD panel again
    b.idle()

    if name.startswith("Li2MnO3 12"):
        b.measure("change supercell 12x12 -> 24x24", name, lambda: w.editor.change_supercell("24", 3),
                  lambda: w.document.model.supercell.n_sites > sc.n_sites and b.shown_current())
    if big and name.startswith("Li2MnO3 24"):
        b.measure("change supercell 24x24 -> 48x48", name, lambda: w.editor.change_supercell("48", 3),
                  lambda: w.document.model.supercell.n_sites > sc.n_sites and b.shown_current(),
                  timeout_s=900)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--big", action="store_true", help="also change supercell 24x24 -> 48x48")
    ap.add_argument("--quick", action="store_true", help="two presets per model only")
    ap.add_argument("--models", default="0,1,2", help="indices of the models to run (0: 12x12, 1: 24x24, 2: NMC)")
    ap.add_argument("--dump-stalls", metavar="FILE", help="write all thread stacks at every stall > 200 ms")
    ap.add_argument("--sample-stalls", metavar="MS", type=float, nargs="?", const=GOAL_GAP_MS,
                    help="sample the GUI thread's stack during stalls and, for every row whose worst gap "
                         "exceeds MS (default 100), print where it was")
    ap.add_argument("--stop-after", metavar="TEXT", help="end after the first row whose action contains TEXT "
                    "(to iterate on one row; the rows before it still run)")
    ap.add_argument("--profile", metavar="TEXT", help="run the rows whose action contains TEXT under cProfile "
                    "(GUI thread) and print the top functions")
    args = ap.parse_args(argv)

    from PySide6.QtWidgets import QApplication
    app = QApplication.instance() or QApplication([])
    from gui import dialogs
    errors: list[str] = []
    dialogs.show_error = lambda parent, title, text: errors.append(f"{title}: {text}")
    dialogs.show_info = lambda parent, title, text: None
    dialogs.ask_save_changes = lambda parent, name: "discard"
    dialogs.ask_yes_no = lambda parent, title, text: False
    from gui.studio import Studio

    st = Studio()
    st.window.resize(1280, 960)
    hb = Heartbeat(open(args.dump_stalls, "w") if args.dump_stalls else None)
    sampler = StallSampler(hb) if args.sample_stalls is not None else None
    b = Bench(st, hb, errors, sampler, args.sample_stalls or GOAL_GAP_MS)
    b.profile, b.stop_after = args.profile, args.stop_after
    st.wait_idle(120)
    models = build_models(args.big)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for i in (int(k) for k in args.models.split(",")):
                name, model = models[i]
                bench_model(b, name, model, Path(tmp), args.big, args.quick)
        except StopBench:
            pass
    if sampler is not None:
        sampler.stop()
    if hb.dump_file is not None:
        import faulthandler
        faulthandler.cancel_dump_traceback_later()
    st.close()
    app.processEvents()

    print()
    print(f"{'action':<34} {'model':<22} {'max gap ms':>10} {'busy ms':>8} {'result s':>9}")
    for r in b.rows:
        flag = "" if r["max_gap_ms"] <= GOAL_GAP_MS else "  > 100 ms"
        extra = f"  start {r['start_s']:.3f} s" if "start_s" in r else ""
        print(f"{r['action']:<34} {r['model']:<22} {r['max_gap_ms']:>10.1f} {r['max_busy_ms']:>8.1f} "
              f"{r['result_s']:>9.3f}{extra}{flag}")
    worst = max(r["max_gap_ms"] for r in b.rows)
    busy = max(r["max_busy_ms"] for r in b.rows)
    load = os.getloadavg()
    print(f"worst gap {worst:.1f} ms (goal <= {GOAL_GAP_MS:.0f} ms); "
          f"{sum(r['max_gap_ms'] > GOAL_GAP_MS for r in b.rows)} of {len(b.rows)} rows above; "
          f"worst GUI-thread busy stretch {busy:.1f} ms; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          f"on {os.cpu_count()} cores")
    print(json.dumps({"rows": b.rows, "load_average": [round(x, 2) for x in load], "cores": os.cpu_count()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
