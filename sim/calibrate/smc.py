"""ABC-SMC around ``pyabc``: priors, distance, the runs, and a seeded, batching sampler.

**Runs.** :class:`Simulator` turns a list of :class:`Job` (rule, parameters, seed) into
summary statistics: the base scenario with the particle's parameters, then the jobs of a
province stepped as one batch of the compiled engine (national scenarios: :func:`sim.run`
one by one). It is the one function that sees whole batches of particles.

**Seeds.** Evaluation ``i`` of generation ``t`` (accepted or not; ``t = -1`` is pyabc's
calibration sample from the prior) draws its proposal and runs its simulation from
``SeedSequence(entropy=calibration seed, spawn_key=(t + 1, i))``: two children, one seeding
NumPy's global generator (which pyabc draws proposals from), one giving the run's seed.
So an evaluation's outcome depends only on (seed, t, i) and on the previous generations.

**Sampler.** :class:`SeededSampler` evaluates ids 0, 1, 2, ... in batches (in this process
or on any :class:`concurrent.futures.Executor`: local processes or a Dask cluster) and keeps
every evaluation up to the one that brings the n-th acceptance, in id order — exactly what
a one-at-a-time loop would keep. The posterior is therefore the same for one process, for
N workers and for any batch size. Evaluations past that id (in flight when the generation
filled up) are discarded.

**Batches through pyabc.** pyabc's ``simulate_one()`` draws a proposal, simulates and
decides in one call. To gather a batch (when :attr:`Simulator.BATCHED`), each id is first
run in *collect* mode (the model records the job and stops the call), the batch is
simulated at once, and each id is run again in *replay* mode from the same seed (same
proposal; the model hands back the stored statistics; pyabc computes the distance,
acceptance and weight as usual). This uses only pyabc's public Sampler and Model
interfaces, and gives the same particles as simulating each id as it comes (tested).

**Overhead.** pyabc's default prior, rule kernel and particle kernel build SciPy objects
or pandas rows on every proposal (4.5 ms per evaluation with a free model); the classes
below give the same distributions and densities through pyabc's extension points
(``model_prior``, ``model_perturbation_kernel``, ``transitions``) at about 0.4 ms.
"""

from __future__ import annotations

import math
import pickle
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyabc
from pyabc.sampler import Sampler

from ..experiments.experiment import scenario_with

if TYPE_CHECKING:
    from ..experiments.experiment import ParamSpec
    from ..params import Scenario
    from .config import Calibration

PREDICTIVE_KEY = 1 << 30
"""spawn_key of the posterior predictive draws (far from any generation index)."""


@dataclass(frozen=True)
class Job:
    """One run: the unit a batch is made of."""

    rule: str
    params: dict[str, float]
    seed: int


def evaluation_seeds(root: int, t: int, i: int) -> tuple[np.ndarray, int]:
    """(proposal seed for NumPy's global generator, run seed) of evaluation i of generation t."""
    proposal, run = np.random.SeedSequence(entropy=root, spawn_key=(t + 1, i)).spawn(2)
    return proposal.generate_state(4), _int63(run)


def predictive_seed(root: int, i: int) -> int:
    return _int63(np.random.SeedSequence(entropy=root, spawn_key=(PREDICTIVE_KEY, i)))


def _int63(ss: np.random.SeedSequence) -> int:
    return int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1))


# ---- the runs -------------------------------------------------------------------------------


class Simulator:
    """Runs jobs through the public API and reads the targets' summary statistics."""

    BATCHED = True
    """Whether :meth:`summaries` runs a batch faster than its jobs one by one: it steps a
    batch as one array computation (issue 20), so the sampler hands it whole batches."""

    def __init__(self, calib: Calibration) -> None:
        self.base = calib.scenario.model_dump()
        self.prefectures = calib.scenario.prefectures
        self.provinces = calib.scenario.provinces
        self.integer_keys = calib.integer_keys
        self.targets = calib.targets
        self.national = calib.scenario.is_national

    def scenario(self, params: dict[str, float]) -> Scenario:
        """The base scenario with ``params`` set (integer keys rounded), as sweeps build it
        (``sim.load_scenario(path, overrides)`` would give the same, re-reading the files
        on every run)."""
        scenario = scenario_with(self.base, params, self.integer_keys)
        scenario._prefectures = self.prefectures
        scenario._provinces = self.provinces
        return scenario

    def summaries(self, jobs: Sequence[Job]) -> list[dict[str, float]]:
        """The summary statistics of each job, in order: the jobs of a province step as
        one batch of the compiled engine (:func:`sim.core.engine.run_batched`, the same
        numbers as each run alone); national scenarios run one by one through
        :func:`sim.run`."""
        if self.national:
            from .. import run  # the package's public API

            return [
                self.targets.summarize(r.timeseries, r.outcomes, result=r)
                for r in (run(self.scenario(j.params), rule=j.rule, seed=j.seed) for j in jobs)
            ]
        return [stats for stats, _ in self.engine_runs(jobs)]

    def engine_runs(self, jobs: Sequence[Job]) -> list[tuple[dict[str, float], Any]]:
        """(summary statistics, finished engine) of each job, stepped as batches."""
        from ..core.engine import Engine, run_batched
        from .statistics import run_data

        engines = [Engine(self.scenario(j.params), rule=j.rule, seed=j.seed) for j in jobs]
        run_batched(engines)
        targets = self.targets
        return [
            (
                targets.summarize(
                    e.recorder.data if targets.needs_timeseries else None,
                    e.outcomes() if targets.needs_outcomes else {},
                    run_data(e) if targets.needs_timeseries else None,
                ),
                e,
            )
            for e in engines
        ]

    def timeseries(self, jobs: Sequence[Job]) -> list[Any]:
        """Full runs (``RunResult``) for the posterior predictive bands."""
        from .. import run

        return [run(self.scenario(j.params), rule=j.rule, seed=j.seed) for j in jobs]


# ---- the pyabc model ------------------------------------------------------------------------


class _Context:
    """What the current evaluation is (per process): its mode, run seed and replay data."""

    mode: str | None = None  # None: simulate now; "collect"; "replay"
    seed: int = 0
    pending: tuple[Job, dict[str, float]] | None = None


_CTX = _Context()


class _Collected(Exception):
    """Raised by a model in collect mode: carries the job, ends simulate_one early."""

    def __init__(self, job: Job, simulator: Simulator) -> None:
        super().__init__(job.rule)
        self.job = job
        self.simulator = simulator


class RuleModel(pyabc.Model):
    """One candidate rule as a pyabc model."""

    def __init__(self, rule: str, names: list[str], simulator: Simulator) -> None:
        super().__init__(name=rule)
        self.names = names
        self.simulator = simulator

    def sample(self, pars: Any) -> dict[str, float]:
        job = Job(self.name, {k: float(pars[k]) for k in self.names}, _CTX.seed)
        if _CTX.mode == "collect":
            raise _Collected(job, self.simulator)
        if _CTX.mode == "replay":
            expected, stats = _CTX.pending  # type: ignore[misc]
            if expected != job:
                raise RuntimeError(f"replay drew {job}, collect drew {expected}")
            return stats
        return self.simulator.summaries([job])[0]


class UniformRV(pyabc.RV):
    """SciPy's uniform distribution as a pyabc random variable, with a closed-form density:
    pyabc evaluates the prior density at every proposal, and SciPy's generic ``pdf`` on one
    number costs a tenth of a millisecond. Made as ``UniformRV("uniform", loc, scale)``."""

    def __setstate__(self, state: Any) -> None:  # also called by RV.__init__ and copy()
        super().__setstate__(state)
        loc, scale = state[1]
        self._low, self._high, self._density = loc, loc + scale, 1.0 / scale

    def pdf(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        if np.ndim(x) or args or kwargs:
            return super().pdf(x, *args, **kwargs)
        return self._density if self._low <= x <= self._high else 0.0


class UniformRules(pyabc.RV):
    """The uniform prior over the rules (SciPy's ``randint(0, n)``, pyabc's default) with
    a closed-form probability mass: pyabc evaluates it at every proposal. Made as
    ``UniformRules("randint", 0, n)``."""

    def pmf(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        n = self.args[1]
        if np.ndim(x) or args or kwargs:
            return super().pmf(x, *args, **kwargs)
        return 1.0 / n if x == int(x) and 0 <= x < n else 0.0


def prior(spec: ParamSpec) -> pyabc.RV:
    """A prior in experiment-file syntax as a pyabc random variable (SciPy conventions)."""
    if spec.dist is None:
        return UniformRV("uniform", spec.low, spec.high - spec.low)  # type: ignore[operator]
    p = spec.params or []
    if spec.dist == "unif":
        return UniformRV("uniform", p[0], p[1] - p[0])
    if spec.dist == "triang":  # SALib: lower, upper, peak as a fraction of the width
        return pyabc.RV("triang", p[2], loc=p[0], scale=p[1] - p[0])
    if spec.dist == "norm":
        return pyabc.RV("norm", p[0], p[1])
    if spec.dist == "truncnorm":  # SALib: lower, upper, mean, sd
        lo, hi, mean, sd = p
        return pyabc.RV("truncnorm", (lo - mean) / sd, (hi - mean) / sd, loc=mean, scale=sd)
    if spec.dist == "lognorm":  # SALib: mean and sd of the log
        return pyabc.RV("lognorm", p[1], scale=math.exp(p[0]))
    raise ValueError(f"unknown distribution {spec.dist!r}")


def distance(calib: Calibration) -> pyabc.Distance:
    """Euclidean distance in units of each target's sd when every target has one; else each
    statistic divided by its median absolute deviation among simulations, so statistics on
    different scales count alike: ``[abc] distance = "adaptive"`` refits that scale every
    generation (pyabc's adaptive distance), ``"fixed"`` fits it once, on the prior sample
    (:class:`FixedScaleDistance`); ``"auto"`` is fixed when several rules are weighed."""
    weights = calib.targets.sd_weights
    if weights is not None:
        return pyabc.PNormDistance(p=2, fixed_weights=weights)
    mode = calib.abc.distance
    if mode == "fixed" or (mode == "auto" and len(calib.rules) > 1):
        return FixedScaleDistance(p=2)
    return pyabc.AdaptivePNormDistance(p=2)


class FixedScaleDistance(pyabc.AdaptivePNormDistance):
    """pyabc's adaptive distance with its scale fitted only when it is initialised (on the
    calibration sample from the prior; on the last stored generation when resumed). Refitted
    every generation over the particles of all rules together, the scale follows whichever
    rule dominates the current generation, which moves the target between generations and
    with it P(rule) (issue 20)."""

    def update(self, t: int, get_sample: Callable[[], Any], total_sims: int) -> bool:
        return pyabc.PNormDistance.update(self, t=t, get_sample=get_sample, total_sims=total_sims)


class RuleKernel(pyabc.transition.ModelPerturbationKernel):
    """pyabc's model perturbation kernel (stay with probability 0.7, else jump to another
    rule uniformly), without building a SciPy distribution on every call: that took a
    third of pyabc's time per proposal."""

    def rvs(self, m: int) -> int:
        n = self.nr_of_models
        if n == 1 or np.random.random_sample() < self.probability_to_stay:
            return int(m)
        other = int(np.random.randint(n - 1))
        return other + (other >= m)

    def pmf(self, n: int, m: int) -> float:
        if self.nr_of_models == 1:
            return 1.0
        stay = self.probability_to_stay
        return stay if n == m else (1 - stay) / (self.nr_of_models - 1)


class ParticleKernel(pyabc.MultivariateNormalTransition):
    """pyabc's multivariate normal perturbation of a weighted particle (same fit, same
    density), drawing one proposal with a cached Cholesky factor instead of pandas rows
    and an SVD per call."""

    def fit(self, X: Any, w: np.ndarray) -> None:
        super().fit(X, w)
        self._cdf = np.cumsum(self.w)
        self._cdf /= self._cdf[-1]
        self._columns = list(X.columns)
        self._factor = _factor(self.cov)

    def rvs_single(self) -> Any:
        i = min(int(np.searchsorted(self._cdf, np.random.random_sample())), len(self._cdf) - 1)
        x = self._X_arr[i] + self._factor @ np.random.standard_normal(len(self._columns))
        return pyabc.Parameter(dict(zip(self._columns, x.tolist(), strict=True)))


def _factor(cov: np.ndarray) -> np.ndarray:
    """A matrix L with L L^T = cov (Cholesky; eigen-decomposition when cov is singular)."""
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        values, vectors = np.linalg.eigh(cov)
        return vectors * np.sqrt(np.clip(values, 0, None))


def build(calib: Calibration, sampler: Sampler) -> pyabc.ABCSMC:
    simulator = Simulator(calib)
    models = [RuleModel(rule, calib.names, simulator) for rule in calib.rules]
    priors = [
        pyabc.Distribution(**{n: prior(s) for n, s in calib.spec.parameters.items()})
        for _ in calib.rules
    ]
    return pyabc.ABCSMC(
        models,
        priors,
        distance(calib),
        population_size=calib.abc.population,
        sampler=sampler,
        model_prior=UniformRules("randint", 0, len(calib.rules)),
        transitions=[ParticleKernel() for _ in calib.rules],
        model_perturbation_kernel=RuleKernel(len(calib.rules), probability_to_stay=0.7),
    )


# ---- evaluating a batch of ids --------------------------------------------------------------


def evaluate(
    simulate_one: Callable[[], Any], t: int, ids: Sequence[int], root: int, *, batched: bool
) -> list:
    """The particles of evaluations ``ids`` of generation ``t``, in order.

    ``batched``: collect the batch's jobs, simulate them in one :meth:`Simulator.summaries`
    call, replay (see the module docstring). Otherwise each evaluation simulates its own
    run as pyabc calls the model: the same particles, without drawing each proposal twice
    (pyabc's proposal costs about a millisecond, so batching pays only with an engine whose
    batched runs save more than that per run)."""
    seeds = [evaluation_seeds(root, t, i) for i in ids]
    try:
        if not batched:
            particles = []
            for proposal_seed, run_seed in seeds:
                np.random.seed(proposal_seed)
                _CTX.mode, _CTX.seed = None, run_seed
                particles.append(simulate_one())
            return particles
        jobs: list[Job] = []
        simulator = None
        for proposal_seed, run_seed in seeds:
            np.random.seed(proposal_seed)
            _CTX.mode, _CTX.seed = "collect", run_seed
            try:
                simulate_one()
            except _Collected as c:
                jobs.append(c.job)
                simulator = c.simulator
            else:
                raise RuntimeError("simulate_one() finished without calling the model")
        stats = simulator.summaries(jobs) if jobs else []  # type: ignore[union-attr]
        particles = []
        for (proposal_seed, run_seed), job, s in zip(seeds, jobs, stats, strict=True):
            np.random.seed(proposal_seed)
            _CTX.mode, _CTX.seed, _CTX.pending = "replay", run_seed, (job, s)
            particles.append(simulate_one())
        return particles
    finally:
        _CTX.mode, _CTX.pending = None, None


_CACHE: dict[str, Callable] = {}  # per worker process: generation key -> simulate_one


def evaluate_remote(
    blob: bytes, key: str, t: int, ids: list[int], root: int, batched: bool
) -> list:
    """:func:`evaluate` in a worker; ``simulate_one`` arrives pickled once per generation."""
    if key not in _CACHE:
        import cloudpickle

        _CACHE.clear()
        _CACHE[key] = cloudpickle.loads(blob)
    return evaluate(_CACHE[key], t, ids, root, batched=batched)


# ---- the sampler ----------------------------------------------------------------------------


class _Prefix:
    """The evaluations of one generation, kept in id order up to the n-th acceptance.

    Batches finish in any order; only the contiguous run of finished batches from id 0 is
    read, once, so the kept set is what a one-at-a-time loop would keep."""

    def __init__(self, n: int, size: int, max_eval: float) -> None:
        self.n, self.size, self.max_eval = n, size, max_eval
        self.finished: dict[int, list] = {}  # batch start id -> particles
        self.kept: list = []
        self.accepted = 0
        self.cursor = 0  # start id of the next batch to read
        self.decided = False

    def add(self, start: int, particles: list) -> bool:
        """Record a finished batch; True once the generation is decided (n accepted, or
        max_eval evaluations without them)."""
        self.finished[start] = particles
        while not self.decided and self.cursor in self.finished:
            for particle in self.finished.pop(self.cursor):
                if len(self.kept) >= self.max_eval:
                    self.decided = True
                    break
                self.kept.append(particle)
                self.accepted += bool(particle.accepted)
                if self.accepted == self.n:
                    self.decided = True
                    break
            self.cursor += self.size
        return self.decided


class SeededSampler(Sampler):
    """A pyabc sampler whose population depends only on the seed (see the module docstring).

    ``executor``: None evaluates in this process; else batches of ``batch_size`` ids go to
    it, at most ``in_flight`` at a time. ``batched``: simulate each batch in one call (see
    :func:`evaluate`). ``progress(t, accepted, n)`` is called as batches finish.
    """

    def __init__(
        self,
        seed: int,
        *,
        executor: Executor | None = None,
        in_flight: int = 1,
        batch_size: int | None = None,
        batched: bool = False,
        progress: Callable[[int, int, int], None] | None = None,
    ) -> None:
        super().__init__()
        self.seed = seed
        self.executor = executor
        self.in_flight = max(1, in_flight)
        self.batch_size = batch_size
        self.batched = batched
        self.progress = progress
        self.evaluated = 0  # evaluations run (kept and discarded), for benchmarks

    def __getstate__(self) -> dict[str, Any]:  # never ship the executor or the callback
        d = dict(self.__dict__)
        d["executor"] = d["progress"] = None
        return d

    def _batch(self, n: int) -> int:
        if self.batch_size is not None:
            return self.batch_size
        if self.executor is None:
            return 32 if self.batched else 1
        # enough batches per generation to balance the workers, few enough that sending
        # them costs little; up to in_flight x size evaluations past the n-th acceptance
        # are discarded
        return max(2, min(32, n // (4 * self.in_flight)))

    def sample_until_n_accepted(
        self,
        n: int,
        simulate_one: Callable,
        t: int,
        *,
        max_eval: float = np.inf,
        all_accepted: bool = False,
        ana_vars: Any = None,
    ) -> Any:
        size = self._batch(n)
        prefix = _Prefix(n, size, max_eval)
        next_id = 0

        def report() -> None:
            if self.progress:
                self.progress(t, prefix.accepted, n)

        if self.executor is None:
            while True:
                ids = list(range(next_id, next_id + size))
                particles = evaluate(simulate_one, t, ids, self.seed, batched=self.batched)
                self.evaluated += size
                next_id += size
                if prefix.add(ids[0], particles):
                    break
                if next_id % 16 == 0 or size > 1:
                    report()
        else:
            import cloudpickle

            blob = cloudpickle.dumps(simulate_one, protocol=pickle.HIGHEST_PROTOCOL)
            key = f"{uuid.uuid4().hex}-{t}"
            pending: dict[Future, int] = {}

            def submit() -> None:
                nonlocal next_id
                ids = list(range(next_id, next_id + size))
                next_id += size
                fut = self.executor.submit(  # type: ignore[union-attr]
                    evaluate_remote, blob, key, t, ids, self.seed, self.batched
                )
                pending[fut] = ids[0]

            try:
                for _ in range(self.in_flight):
                    submit()
                decided = False
                while not decided:
                    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        decided = prefix.add(pending.pop(fut), fut.result()) or decided
                        self.evaluated += size
                    report()
                    while not decided and len(pending) < self.in_flight:
                        submit()
            finally:
                for fut in pending:
                    fut.cancel()
        sample = self._create_empty_sample()
        for particle in prefix.kept:
            sample.append(particle)
        self.nr_evaluations_ = len(prefix.kept)
        if sample.n_accepted < n:
            sample.ok = False
        report()
        return sample
