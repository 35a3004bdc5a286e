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
    """One progress record: attempts so far (step, all replicas), sweep index, kT (eV) and current energy
    (eV) of the coldest replica, best energy (eV) of any replica, the acceptance ratio since the previous
    record, and the kT and energy of every replica (rung order, coldest first for the default ladders)."""

    step: int
    sweep: int
    temperature: float
    energy: float
    best_energy: float
    acceptance: float
    temperatures: list[float] = field(default_factory=list)  # kT (eV) of every replica, rung order
    energies: list[float] = field(default_factory=list)      # current energy (eV) of every rung


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
    replicas: int = 1
    schedule: str = "anneal"
    exchange_acceptance: float | None = None
    shift_acceptance: float | None = None

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


def coupling_scales(model, sites, group) -> list[float]:
    """Energy scale J (eV) of swaps in each swap group: largest (q_a - q_b)^2 over the group's species
    times e^2 / (4 pi eps0 a), a the in-plane nearest-neighbour distance. Groups holding one species
    are left out."""
    from core.energy.tables import CONV  # e^2 / (4 pi eps0), eV Angstrom: the engine's one constant
    q = model.charges()[sites]
    out = []
    for gid in np.unique(group):
        qs = q[group == gid]
        dq2 = float((qs.max() - qs.min()) ** 2)
        if dq2 > 0:
            out.append(dq2 * CONV / model.supercell.host.a)
    return out


def coupling_scale(model, sites, group) -> float:
    """The largest of `coupling_scales` (eV)."""
    return max(coupling_scales(model, sites, group) or [0.0])


def default_schedule(scale: float, soft_scale: float | None = None) -> tuple[float, float]:
    """(t_start, t_end) kT in eV: 0.3 J (disordered) to 0.003 J (frozen). With coupled sublattices of
    different scales (J the stiffest, soft_scale the softest swap group, e.g. Li/vacancy beside
    Mn/vacancy) the run ends at 0.003 of the softest scale, so that sublattice orders too."""
    soft = scale if soft_scale is None else min(scale, soft_scale)
    return 0.3 * scale, 0.003 * soft


def make_temperatures(sweeps: int, t_start: float, t_end: float, soft_start: float | None = None) -> np.ndarray:
    """Per-sweep kT (eV): geometric from t_start to t_hi = t_start / 2.5 over the first 15 %, slowly
    through the ordering region t_hi -> t_lo = t_start / 5 over the next 60 % (for Li/Mn formal
    charges that is 5.5 -> 2.8 eV around the transition near 4 eV), then a quench to t_end.

    soft_start: the t_start of a softer coupled sublattice (e.g. 0.3 J of a Na/vacancy layer beside a
    Ni/Mn layer, J four times smaller). When its window lies below the first, the run lingers in both:
    10 % down to t_start / 2.5, 25 % through the stiff window, 10 % down to soft_start / 2.5, 45 %
    through the soft window, 10 % quench. A single window passes the soft ordering in the quench, which
    leaves one Na layer in a competing arrangement (bench/montecarlo.py)."""
    if sweeps < 8:
        return np.geomspace(t_start, t_end, max(sweeps, 1))
    t_hi = max(t_end, t_start / 2.5)
    t_lo = max(t_end, t_start / 5.0)
    if soft_start is not None and soft_start / 2.5 < t_lo and sweeps >= 20:
        s_hi = max(t_end, soft_start / 2.5)
        s_lo = max(t_end, soft_start / 5.0)
        parts = [(t_start, t_hi, 0.10), (t_hi, t_lo, 0.25), (t_lo, s_hi, 0.10), (s_hi, s_lo, 0.45)]
        segs, used = [], 0
        for a, b, f in parts:
            k = max(1, int(f * sweeps))
            segs.append(np.geomspace(a, b, k))
            used += k
        segs.append(np.geomspace(s_lo, t_end, max(1, sweeps - used)))
        return np.concatenate(segs)[:sweeps]
    a = max(1, int(0.15 * sweeps))
    b = max(1, int(0.60 * sweeps))
    c = sweeps - a - b
    return np.concatenate([np.geomspace(t_start, t_hi, a), np.geomspace(t_hi, t_lo, b),
                           np.geomspace(t_lo, t_end, c)])


SCHEDULES = ("anneal", "geometric", "linear", "tempering")


def ladder(sweeps: int, t_start: float, t_end: float, schedule: str = "anneal", replicas: int = 1,
           spread: float = 3.0, soft_start: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(profile (sweeps,), factors (replicas,)): replica k runs at kT = profile[s] * factors[k] (eV) in
    sweep s; the factored form keeps memory at one float per sweep whatever the number of replicas.
    See `schedule_temperatures` for the schedules."""
    key = str(schedule).strip().lower()
    if key not in SCHEDULES:
        raise AnnealError(f"unknown schedule {schedule!r}; choose one of {', '.join(SCHEDULES)}")
    K = int(replicas)
    if K < 1:
        raise AnnealError("replicas must be at least 1")
    if not (t_start > 0 and t_end > 0):
        raise AnnealError("temperatures (kT in eV) must be positive")
    if not spread >= 1.0:
        raise AnnealError("the replica ladder spread must be at least 1")
    rung = np.arange(K) / max(K - 1, 1)
    if key == "tempering":
        return np.full(sweeps, float(t_end)), (t_start / t_end) ** rung
    # the hottest rung starts at t_start, the coldest ends at t_end
    top = t_start / spread if K > 1 else t_start
    if key == "anneal":
        soft = None if soft_start is None else soft_start * top / t_start   # shifted like the stiff window
        prof = make_temperatures(sweeps, top, t_end, soft)
    elif key == "geometric":
        prof = np.geomspace(top, t_end, sweeps)
    else:
        prof = np.linspace(top, t_end, sweeps)
    return prof, (spread ** rung if K > 1 else np.ones(1))


def schedule_temperatures(sweeps: int, t_start: float, t_end: float, schedule: str = "anneal",
                          replicas: int = 1, spread: float = 3.0) -> np.ndarray:
    """(replicas, sweeps) kT in eV of every replica at every sweep.

    schedule: "anneal" (`make_temperatures`: hot, linger in the ordering region, quench), "geometric" or
    "linear" from t_start to t_end; with K > 1 replicas the coldest rung follows that profile from
    t_start / spread to t_end and rung k runs at spread^(k / (K - 1)) times it (replica-exchange
    annealing: the ladder cools as a whole, its hottest rung starting at t_start). The ladder widens
    the "anneal" profile's lingering window by the factor spread, so one default serves layers whose
    ordering transitions lie at different fractions of the coupling scale (Li/Mn near 0.09 J, dilute
    TM vacancies near 0.03 J). "tempering": classic parallel tempering, rung k fixed at
    t_end (t_start / t_end)^(k / (K - 1)) for the whole run.
    """
    prof, fac = ladder(sweeps, t_start, t_end, schedule, replicas, spread)
    return fac[:, None] * prof[None, :]


AUTO_REPLICAS = (8, 32)   # range of the automatic replica count


def needs_replicas(model, sublattice: str) -> bool:
    """True when plain annealing is not reliable: several coupled swap groups (e.g. TM and alkali layers
    together) or vacancies among the swapping species (vacancy orderings: TM vacancies, Na/vacancy)."""
    from core.structure.species import VACANCY
    sites, group = active_sites(model, sublattice)
    occ = model.occupancy[sites]
    live = [g for g in np.unique(group) if len(np.unique(occ[group == g])) > 1]
    return len(live) > 1 or any(bool((occ[group == g] == VACANCY).any()) for g in live)


def auto_replicas(model, sublattice: str) -> int:
    """Replica count used when none is given: 1 (plain simulated annealing, reliable for one swap group of
    ions, e.g. Li/Mn or Ni/Co/Mn) unless `needs_replicas`; then K = 1.5 sqrt(n active sites) clipped to
    AUTO_REPLICAS (the energy fluctuations grow as sqrt(n), so a ladder of fixed spread needs K ~ sqrt(n)
    rungs to keep the exchange acceptance)."""
    if not needs_replicas(model, sublattice):
        return 1
    n = len(active_sites(model, sublattice)[0])
    lo, hi = AUTO_REPLICAS
    return int(np.clip(np.ceil(1.5 * np.sqrt(n)), lo, hi))


def _aborted(abort) -> bool:
    if abort is None:
        return False
    if hasattr(abort, "is_set"):
        return bool(abort.is_set())
    return bool(abort())


def anneal(model, *, sweeps: int = 20000, seed: int = 0, sublattice: str = "tm",
           t_start: float | None = None, t_end: float | None = None, abort=None,
           keep: int = 5, distinct_tol: float = 1e-6, progress_every: float = 0.05,
           engine=None, replicas: int | None = None, schedule: str = "anneal", spread: float = 3.0,
           exchange_attempts: int = 2000, shift_moves: bool = True) -> Iterator[AnnealProgress | AnnealResult]:
    """Simulated annealing / replica exchange generator: yields AnnealProgress records, then one AnnealResult.

    model is not modified (apply ``result.best_occupancy`` with ``model.set_occupancy``).
    sweeps: sweeps per replica (one attempt per active site each); seed: reproducible runs; sublattice:
    see `active_sites`; t_start / t_end: kT in eV (default from the energy scale, `default_schedule`);
    replicas, schedule, spread: the temperature of every replica at every sweep
    (`schedule_temperatures`); replicas None (default): `auto_replicas` (replica exchange for coupled
    sublattices and vacancy orderings, plain annealing otherwise); with replicas > 1 neighbouring
    rungs try to exchange their configurations after about `exchange_attempts` swap attempts per replica, accepted with
    probability min(1, exp((1/kT_i - 1/kT_j)(E_i - E_j))) (Swendsen and Wang, Phys. Rev. Lett. 57,
    2607 (1986); Hukushima and Nemoto, J. Phys. Soc. Jpn. 65, 1604 (1996)).
    shift_moves: between kernel calls, also move one sublattice of one slab, or all sublattices of a
    slab together, rigidly (the arrangement rotated by a multiple of 60 degrees and translated by an
    in-plane lattice vector): the exact energy change of every such move is computed at once and one
    is drawn by heat bath, exp(-dE / kT), the identity included (dense matrix only, up to
    DENSE_MAX_SITES active sites; only with several sublattices or layers: a lone layer moved
    rigidly is the same arrangement). Ordered TM and alkali layers in the wrong registry or
    orientation are a trap for single swaps: leaving it means disordering one of them, which costs far
    more than the registry gains.
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
    K = auto_replicas(model, sublattice) if replicas is None else int(replicas)
    if K < 1 or K > 64:
        raise AnnealError("replicas must be between 1 and 64")
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
    soft_start = None
    if t_start is None or t_end is None:
        scales = coupling_scales(model, sites, group)
        ts, te = default_schedule(max(scales), min(scales))
        if t_start is None and len(scales) > 1:
            soft_start = default_schedule(min(scales))[0]   # a second window for the softer sublattice
        t_start = ts if t_start is None else t_start
        t_end = te if t_end is None else t_end
    prof, fac = ladder(sweeps, float(t_start), float(t_end), schedule, K, spread, soft_start)
    sp0 = occ0[sites].astype(np.int8)
    engine = engine or get_engine(model.supercell)
    q_full = charges_of(model)
    phi_full = engine.potential(q_full)
    energy0 = 0.5 * float(q_full @ phi_full)
    start_energy = energy0
    q0 = q_full[sites].copy()
    phi0 = phi_full[sites].copy()
    bl = np.ascontiguousarray(engine.site_basis[sites], dtype=np.int64)
    g = np.ascontiguousarray(engine.site_group[sites], dtype=np.int64)
    mii = engine.self_term[bl].copy()
    n = len(sites)
    tol = 1e-9
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
    # one independent random stream per replica (the first one is the single-replica stream)
    states = [np.array([rng.integers(1, 2 ** 63 - 1)], dtype=np.uint64) for _ in range(K)]
    several = len(np.unique(group)) > 1 or len(np.unique(model.supercell.layer[sites])) > 1
    blocks = _blocks(model.supercell, sites, group, rng) if (shift_moves and several and n <= DENSE_MAX_SITES) else []
    if blocks:
        block_M = [M[np.ix_(b[0], b[0])] for b in blocks]
        block_cols = [np.ascontiguousarray(M[:, b[0]]) for b in blocks]
    shifts_tried = shifts_done = 0
    block_cost = 0
    q = [q0.copy() for _ in range(K)]
    sp = [sp0.copy() for _ in range(K)]
    phi = [phi0.copy() for _ in range(K)]
    energy = [energy0] * K
    best_sp = sp0.copy()
    best_energy = energy0
    # compile (cached on disk) before the clock starts
    kernel(q0.copy(), sp0.copy(), phi0.copy(), prof[:0], states[0].copy(), energy0, energy0, best_sp.copy())
    setup = time.perf_counter() - t0
    t1 = time.perf_counter()
    pool: list[tuple[float, bytes]] = []
    trace: list[AnnealProgress] = []
    attempts = accepted = 0
    swaps_tried = swaps_done = 0
    # ~20 ms of attempts per kernel call (abort latency), and at least one call per progress record;
    # with replicas, an exchange round after about `exchange_attempts` attempts per replica
    per_call = (2e5 if not blocks else 5e3) if K == 1 else max(1.0, float(exchange_attempts))
    chunk = max(1, min(sweeps, int(per_call // max(n, 1)), int(np.ceil(progress_every * sweeps))))
    next_report = 0.0
    acc_since = att_since = 0
    done = 0
    aborted = False
    parity = 0

    def remember(e, arr):
        _insert(pool, float(e), arr, keep, distinct_tol)

    while done < sweeps:
        if _aborted(abort):
            aborted = True
            break
        hi = min(sweeps, done + chunk)
        for k in range(K):
            chunk_best = np.inf
            buf = best_sp if K == 1 else sp0.copy()
            energy[k], chunk_best_e, acc, att = kernel(q[k], sp[k], phi[k], prof[done:hi] * fac[k], states[k],
                                                       energy[k], chunk_best, buf)
            if chunk_best_e < np.inf:
                remember(chunk_best_e, buf.copy())
                best_energy = min(best_energy, chunk_best_e)
            remember(energy[k], sp[k].copy())
            attempts += att
            accepted += acc
            acc_since += acc
            att_since += att
        for k in range(K if blocks else 0):
            if block_cost > BLOCK_SHARE * FLOPS_PER_ATTEMPT * attempts:
                break   # rigid moves get a bounded share of the work (counted, so runs stay reproducible)
            # heat-bath choice among every rigid move of one block (identity included): all energy
            # changes at once, one move drawn with probability proportional to exp(-dE / kT)
            b = int(rng.integers(len(blocks)))
            pos, perms = blocks[b]
            qb = q[k][pos]
            dE = np.zeros(len(perms) + 1)
            mc_kernels.rigid_move_energies(qb, perms, phi[k][pos], block_M[b], dE[1:])
            w = np.exp(-(dE - dE.min()) / (prof[hi - 1] * fac[k]))
            c = int(np.searchsorted(np.cumsum(w), rng.random() * w.sum()))
            shifts_tried += 1
            dq = qb[perms[c - 1]] - qb if c > 0 else None
            if c > 0 and dq.any():
                shifts_done += 1
                perm = perms[c - 1]
                q[k][pos] = qb[perm]
                sp[k][pos] = sp[k][pos][perm]
                mc_kernels.add_columns(phi[k], block_cols[b], dq)
                energy[k] += float(dE[c])
                if energy[k] < best_energy - tol:
                    best_energy = energy[k]
                    remember(energy[k], sp[k].copy())
            block_cost += perms.size * len(pos)
        if K > 1:  # exchange neighbouring rungs (even pairs, then odd pairs next round)
            beta = 1.0 / (prof[hi - 1] * fac)
            for k in range(parity, K - 1, 2):
                swaps_tried += 1
                x = (beta[k] - beta[k + 1]) * (energy[k] - energy[k + 1])
                if x >= 0 or rng.random() < np.exp(x):
                    swaps_done += 1
                    for arr in (q, sp, phi, energy):
                        arr[k], arr[k + 1] = arr[k + 1], arr[k]
            parity ^= 1
        done = hi
        if done / sweeps >= next_report or done == sweeps:
            rec = AnnealProgress(step=attempts, sweep=done, temperature=float(prof[done - 1] * fac[0]),
                                 energy=float(energy[0]), best_energy=float(min(best_energy, start_energy)),
                                 acceptance=acc_since / att_since if att_since else 0.0,
                                 temperatures=[float(t) for t in prof[done - 1] * fac],
                                 energies=[float(e) for e in energy])
            trace.append(rec)
            acc_since = att_since = 0
            next_report = done / sweeps + progress_every
            yield rec
    seconds = time.perf_counter() - t1
    remember(start_energy, sp0)
    configurations = []
    for e, arr in pool:
        occ = occ0.copy()
        occ[sites] = np.frombuffer(arr, dtype=np.int8)
        configurations.append((e, occ))
    final = occ0.copy()
    final[sites] = sp[0]
    yield AnnealResult(configurations=configurations, start_energy=start_energy,
                       best_energy=configurations[0][0], final_energy=float(energy[0]),
                       final_occupancy=final, attempts=attempts, accepted=accepted, seconds=seconds,
                       setup_seconds=setup, seed=seed, sublattice=sublattice,
                       temperatures=(float(t_start), float(t_end)), aborted=aborted, trace=trace,
                       replicas=K, schedule=str(schedule),
                       exchange_acceptance=swaps_done / swaps_tried if swaps_tried else None,
                       shift_acceptance=shifts_done / shifts_tried if shifts_tried else None)


BLOCK_SHARE = 0.3         # rigid moves may cost up to this fraction of the swap attempts' work
FLOPS_PER_ATTEMPT = 100   # one swap attempt costs about as much as 100 multiply-adds of the rigid moves
MAX_SHIFTS = 256  # rigid operations per block (a random subset in large cells)


def _rotations(supercell) -> list[int]:
    """Multiples of 60 degrees (0..5) that map the supercell's in-plane lattice onto itself."""
    from core.orderings.superlattice import coset_labels, hnf_2d
    H = hnf_2d(supercell.matrix)
    out = []
    for r in range(6):
        rows = supercell.matrix.copy()
        for _ in range(r):
            rows = np.column_stack([rows[:, 0] - rows[:, 1], rows[:, 0]])
        if (coset_labels(H, rows) == 0).all():
            out.append(r)
    return out


def _blocks(supercell, sites, group, rng) -> list[tuple[np.ndarray, np.ndarray]]:
    """Rigid-move blocks: for every swap group and TM slab, (positions into `sites` (m,), permutations
    (T, m)) with new[pos] = old[pos][perm] the block's arrangement rotated by a multiple of 60 degrees
    (when the supercell allows it) and translated by an in-plane lattice vector; blocks of several
    sublattices of one slab move them together (needed when the host is not six-fold: the O3 slab
    is only three-fold, so a 60 degree turn of TM and alkali patterns together changes the energy)."""
    sc = supercell
    out = []
    layer = sc.layer[sites]
    ops = [(r, t) for r in _rotations(sc) for t in sc.reps if r or t.any()]
    if len(ops) > MAX_SHIFTS:
        ops = [ops[k] for k in rng.choice(len(ops), MAX_SHIFTS, replace=False)]
    chosen = [np.flatnonzero((group == gid) & (layer == L)) for gid in np.unique(group)
              for L in np.unique(layer[group == gid])]
    for L in np.unique(layer):   # all sublattices of a slab together (a rotation is not a symmetry of O3)
        if len(np.unique(group[layer == L])) > 1:
            chosen.append(np.flatnonzero(layer == L))
    for pos in chosen:
        s = sites[pos]
        where = -np.ones(sc.n_sites, dtype=np.int64)
        where[s] = np.arange(len(s))
        perms = []
        for r, t in ops:
            ijk = sc.ijk[s].copy()
            i, j = ijk[:, 0].copy(), ijk[:, 1].copy()
            for _ in range(r):          # 60 degrees: a1 -> a1 + a2, a2 -> -a1
                i, j = i - j, i
            ijk[:, 0], ijk[:, 1] = i + t[0], j + t[1]
            # the site that receives the arrangement of site s
            dest = where[sc.index_of(sc.basis_local[s], ijk)]
            if (dest < 0).any() or len(np.unique(dest)) != len(dest):
                continue
            perm = np.empty(len(s), dtype=np.int64)
            perm[dest] = np.arange(len(s))   # new[dest[i]] = old[i]
            perms.append(perm)
        if perms:
            out.append((pos, np.array(perms)))
    return out


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


__all__ = ["anneal", "run_anneal", "schedule_temperatures", "ladder", "SCHEDULES", "AnnealProgress", "AnnealResult",
           "AnnealError", "active_sites", "make_temperatures", "default_schedule", "coupling_scale",
           "coupling_scales", "SUBLATTICES", "auto_replicas", "needs_replicas"]
