"""Canonical simulated annealing of cation arrangements on the Ewald (formal point charge) energy.

    for rec in anneal(model, sweeps=20000, seed=1, sublattice="tm"):
        if isinstance(rec, AnnealProgress): plot(rec.step, rec.energy)
        else: result = rec                       # the last item: AnnealResult

Moves swap two sites of one sublattice holding different species, so every sublattice keeps its
composition. Temperatures are kT in eV (model units of the unscreened point-charge energy, NOT
kelvin: with formal charges the honeycomb order-disorder transition of Li1/3Mn2/3 sits near kT ~ 4 eV,
a meaningless "45 000 K"). The default schedule is derived from the coupling scale J = dq_max^2 e^2/(4 pi eps0 a)
(`coupling_scale`): it starts hot (disordered), cools to the ordering region, lingers there for 60 %
of the sweeps and then quenches (`make_temperatures`). The energy is electrostatic only: it cannot tell honeycomb
stackings apart, so an annealed stacking is arbitrary (docs/science.md §6).

A sweep is one attempted swap per active site. `AnnealResult.configurations` holds the best few
configurations found whose energies differ by more than `distinct_tol` eV (a proxy for distinct
orderings: translated copies of one ordering have equal energy).
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from core.errors import LayerStudioError

SUBLATTICES = ("tm", "alkali", "all", "mixed")


@dataclass
class AnnealProgress:
    """One progress record: attempts so far (step), sweep index, kT (eV), current and best energy (eV)
    and the acceptance ratio since the previous record."""

    step: int
    sweep: int
    temperature: float
    energy: float
    best_energy: float
    acceptance: float


@dataclass
class AnnealResult:
    """Outcome of `anneal`.

    configurations: list of (energy eV, occupancy (N,) int8), lowest first, pairwise distinct in energy.
    start_energy / best_energy / final_energy in eV; attempts (counted swaps), seconds (after set-up),
    attempts_per_s; aborted: True when stopped by the abort flag.
    """

    configurations: list[tuple[float, np.ndarray]]
    start_energy: float
    best_energy: float
    final_energy: float
    final_occupancy: np.ndarray
    attempts: int
    accepted: int
    seconds: float
    setup_seconds: float
    seed: int
    sublattice: str
    temperatures: tuple[float, float]
    aborted: bool = False
    trace: list[AnnealProgress] = field(default_factory=list, repr=False)

    @property
    def best_occupancy(self) -> np.ndarray:
        return self.configurations[0][1]

    @property
    def attempts_per_s(self) -> float:
        return self.attempts / self.seconds if self.seconds > 0 else float("nan")


class AnnealError(LayerStudioError, ValueError):
    """Invalid annealing request (nothing to swap, unknown sublattice, bad schedule)."""


def active_sites(model, sublattice: str) -> tuple[np.ndarray, np.ndarray]:
    """(sites (n,), swap group (n,)) for a sublattice choice.

    tm: TM-layer sites; alkali: alkali-layer sites (all roles); all: both, each swapping within itself;
    mixed: all cation sites in one group (TM/alkali exchange allowed). O sites never move.
    """
    sc = model.supercell
    key = str(sublattice).strip().lower()
    if key not in SUBLATTICES:
        raise AnnealError(f"unknown sublattice {sublattice!r}; choose one of {', '.join(SUBLATTICES)}")
    tm, alk = sc.tm_sites, sc.alkali_sites
    if key == "tm":
        return tm, np.zeros(len(tm), np.int64)
    if key == "alkali":
        return alk, np.zeros(len(alk), np.int64)
    sites = np.concatenate([tm, alk])
    group = np.concatenate([np.zeros(len(tm), np.int64),
                            np.zeros(len(alk), np.int64) + (1 if key == "all" else 0)])
    return sites, group


#: Largest sweep count (the temperature schedule holds one float per sweep; 10^6 sweeps of even a
#: 100-site sublattice are 10^8 attempts).
MAX_SWEEPS = 1_000_000
DENSE_MAX_SITES = 2048  # dense active-site matrix up to 2048^2 * 8 B = 34 MB, else table look-ups


def coupling_scale(model, sites, group) -> float:
    """Energy scale J (eV) of swaps: largest (q_a - q_b)^2 over species sharing a swap group times
    e^2 / (4 pi eps0 d), d the nearest-neighbour distance within the sublattice (a in a TM layer)."""
    sc = model.supercell
    q = model.charges()[sites]
    dq2 = 0.0
    for gid in np.unique(group):
        qs = q[group == gid]
        dq2 = max(dq2, float((qs.max() - qs.min()) ** 2))
    d = sc.host.a
    from core.energy.tables import CONV  # e^2 / (4 pi eps0), eV Angstrom: the engine's one constant
    return dq2 * CONV / d


def default_schedule(scale: float) -> tuple[float, float]:
    """(t_start, t_end) kT in eV for coupling scale J: 0.3 J (disordered) to 0.003 J (frozen)."""
    return 0.3 * scale, 0.003 * scale


def make_temperatures(sweeps: int, t_start: float, t_end: float) -> np.ndarray:
    """Per-sweep kT (eV): geometric from t_start to t_hi = t_start / 2.5 over the first 15 %, slowly
    through the ordering region t_hi -> t_lo = t_start / 5 over the next 60 % (for Li/Mn formal
    charges that is 5.5 -> 2.8 eV around the transition near 4 eV), then a quench to t_end."""
    if sweeps < 8:
        return np.geomspace(t_start, t_end, max(sweeps, 1))
    t_hi = max(t_end, t_start / 2.5)
    t_lo = max(t_end, t_start / 5.0)
    a = max(1, int(0.15 * sweeps))
    b = max(1, int(0.60 * sweeps))
    c = sweeps - a - b
    return np.concatenate([np.geomspace(t_start, t_hi, a), np.geomspace(t_hi, t_lo, b),
                           np.geomspace(t_lo, t_end, c)])


def _aborted(abort) -> bool:
    if abort is None:
        return False
    if hasattr(abort, "is_set"):
        return bool(abort.is_set())
    return bool(abort())


def anneal(model, *, sweeps: int = 20000, seed: int = 0, sublattice: str = "tm",
           t_start: float | None = None, t_end: float | None = None, abort=None,
           keep: int = 5, distinct_tol: float = 1e-6, progress_every: float = 0.05,
           engine=None) -> Iterator[AnnealProgress | AnnealResult]:
    """Simulated annealing generator: yields AnnealProgress records, then one AnnealResult.

    model is not modified (apply ``result.best_occupancy`` with ``model.set_occupancy``).
    sweeps: sweeps (one attempt per active site each); seed: reproducible runs; sublattice: see
    `active_sites`; t_start / t_end: kT in eV (default from the energy scale, `default_schedule`);
    abort: threading.Event or callable returning True to stop (checked about every 20 ms);
    progress_every: fraction of the run between records; engine: an EwaldEngine for the supercell
    (default `core.energy.ewald.get_engine`).
    """
    from core.energy.ewald import charges_of, get_engine
    from core.orderings import mc_kernels

    t0 = time.perf_counter()
    sweeps = int(sweeps)
    if not 1 <= sweeps <= MAX_SWEEPS:
        raise AnnealError(f"sweeps must be 1..{MAX_SWEEPS:,}, not {sweeps}")
    sites, group = active_sites(model, sublattice)
    occ0 = model.occupancy.copy()
    # groups holding a single species cannot change: leave them out; order the rest by group
    live = [g for g in np.unique(group) if len(np.unique(occ0[sites[group == g]])) > 1]
    if not live:
        raise AnnealError(f"nothing to anneal: every {sublattice} site holds the same species")
    order = np.concatenate([np.flatnonzero(group == g) for g in live])
    sites, group = sites[order], group[order]
    bounds = np.searchsorted(group, group, side="left"), np.searchsorted(group, group, side="right")
    glo, ghi = (np.ascontiguousarray(b, dtype=np.int64) for b in bounds)
    sp = occ0[sites].astype(np.int8)
    engine = engine or get_engine(model.supercell)
    q_full = charges_of(model)
    phi_full = engine.potential(q_full)
    energy = 0.5 * float(q_full @ phi_full)
    start_energy = energy
    q = q_full[sites].copy()
    phi = phi_full[sites].copy()
    bl = np.ascontiguousarray(engine.site_basis[sites], dtype=np.int64)
    g = np.ascontiguousarray(engine.site_group[sites], dtype=np.int64)
    mii = engine.self_term[bl].copy()
    n = len(sites)
    if n <= DENSE_MAX_SITES:
        M = np.ascontiguousarray(engine.submatrix(sites, sites))

        def kernel(q, sp, phi, temps, state, energy, best, best_sp):
            return mc_kernels.anneal_chunk_dense(q, sp, glo, ghi, M, phi, temps, n, state, energy, best,
                                                 best_sp, tol)
    else:
        W = np.ascontiguousarray(engine.W)

        def kernel(q, sp, phi, temps, state, energy, best, best_sp):
            return mc_kernels.anneal_chunk(q, sp, glo, ghi, bl, g, W, mii, phi, temps, n, state, energy,
                                           best, best_sp, tol)
    rng = np.random.default_rng(seed)
    tol = 1e-9
    if t_start is None or t_end is None:
        ts, te = default_schedule(coupling_scale(model, sites, group))
        t_start = ts if t_start is None else t_start
        t_end = te if t_end is None else t_end
    if not (t_start > 0 and t_end > 0):
        raise AnnealError("temperatures (kT in eV) must be positive")
    temps = make_temperatures(sweeps, float(t_start), float(t_end))
    state = np.array([rng.integers(1, 2 ** 63 - 1)], dtype=np.uint64)
    best_sp = sp.copy()
    best_energy = energy
    # compile (cached on disk) before the clock starts
    kernel(q.copy(), sp.copy(), phi.copy(), temps[:0], state.copy(), energy, energy, best_sp.copy())
    setup = time.perf_counter() - t0
    t1 = time.perf_counter()
    pool: list[tuple[float, bytes]] = []
    trace: list[AnnealProgress] = []
    attempts = accepted = 0
    # ~20 ms of attempts per kernel call (abort latency), and at least one call per progress record
    chunk = max(1, min(sweeps, int(2e5 // max(n, 1)), int(np.ceil(progress_every * sweeps))))
    next_report = 0.0
    acc_since = att_since = 0
    done = 0
    aborted = False

    def remember(e, arr):
        _insert(pool, float(e), arr, keep, distinct_tol)

    while done < sweeps:
        if _aborted(abort):
            aborted = True
            break
        hi = min(sweeps, done + chunk)
        chunk_best = np.inf
        energy, chunk_best_e, acc, att = kernel(q, sp, phi, temps[done:hi], state, energy, chunk_best,
                                                best_sp)
        if chunk_best_e < np.inf:
            remember(chunk_best_e, best_sp.copy())
        best_energy = min(best_energy, chunk_best_e)
        remember(energy, sp.copy())
        attempts += att
        accepted += acc
        acc_since += acc
        att_since += att
        done = hi
        if done / sweeps >= next_report or done == sweeps:
            rec = AnnealProgress(step=attempts, sweep=done, temperature=float(temps[done - 1]),
                                 energy=float(energy), best_energy=float(min(best_energy, start_energy)),
                                 acceptance=acc_since / att_since if att_since else 0.0)
            trace.append(rec)
            acc_since = att_since = 0
            next_report = done / sweeps + progress_every
            yield rec
    seconds = time.perf_counter() - t1
    remember(start_energy, occ0[sites].astype(np.int8))
    configurations = []
    for e, arr in pool:
        occ = occ0.copy()
        occ[sites] = np.frombuffer(arr, dtype=np.int8)
        configurations.append((e, occ))
    final = occ0.copy()
    final[sites] = sp
    yield AnnealResult(configurations=configurations, start_energy=start_energy,
                       best_energy=configurations[0][0], final_energy=float(energy),
                       final_occupancy=final, attempts=attempts, accepted=accepted, seconds=seconds,
                       setup_seconds=setup, seed=seed, sublattice=sublattice,
                       temperatures=(float(t_start), float(t_end)), aborted=aborted, trace=trace)


def _insert(pool: list, energy: float, arr: np.ndarray, keep: int, tol: float) -> None:
    """Keep the `keep` lowest (energy, bytes) with energies pairwise more than tol apart."""
    for _k, (e, _a) in enumerate(pool):
        if abs(e - energy) <= tol:
            return
    pool.append((energy, arr.astype(np.int8).tobytes()))
    pool.sort(key=lambda t: t[0])
    del pool[keep:]


def run_anneal(model, **kw) -> AnnealResult:
    """Drain `anneal` and return its AnnealResult."""
    result = None
    for rec in anneal(model, **kw):
        result = rec
    return result


__all__ = ["anneal", "run_anneal", "AnnealProgress", "AnnealResult", "AnnealError", "active_sites",
           "make_temperatures", "default_schedule", "coupling_scale", "SUBLATTICES"]
