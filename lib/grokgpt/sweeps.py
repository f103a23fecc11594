"""Many runs: a sweep in this process or on Dask, and the `make runs` / `make verify` commands.

    python -m grokgpt.sweeps run [--jobs N] [--scheduler tcp://host:8786] [--force] [--only 04_grokking ...]
    python -m grokgpt.sweeps verify [--n 3] [--seed S] [--max-seconds 600]

`sweep(specs)` returns every spec's finished run: found in data/runs/ (or this process's output), or computed.
Every run is computed on one torch thread, in this process (`jobs` 1) or, with `jobs > 1` (the default for `run`:
one worker per core) or a scheduler address, as a Dask task on a 1-thread worker (one 1-thread worker per core
gives about 1.5× the runs per hour of one run on all cores: `benchmarks/sweep_speed.py`). One thread always,
because the thread count changes a run's trajectory: a name never stands for two sets of metrics. Workers return
what a run produced as values (`runs.Result`); the caller writes data/runs/, so workers need no shared
filesystem. A worker that dies costs its run only: the sweep goes on, and the failure is reported at the end.
Two sweeps at once never compute the same run twice: the caller (the process that writes data/runs/) holds a lock
per run while it is computed (`store.lock`); a sweep that finds a run locked by another process leaves it, and
at the end reads it if the other has written it meanwhile, or reports it. Two that wrote the same run anyway
(--force) never raise: the one that loses the race reads the other's.

Bad input is one line on stderr and exit code 2, found before any training: a root that is not a project, a
data/runs/ that cannot be written, a scheduler that does not answer within a few seconds, a flag out of its range.
"""

from __future__ import annotations

import io
import math
import random
import sys
import warnings
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from grokgpt import compute, experiments, runs, store
from grokgpt.devices import THREADS, cores
from grokgpt.flags import Parser
from grokgpt.runs import Run, Spec
from grokgpt.train import load_snapshot

SCHEDULER_TIMEOUT = 5  # seconds a scheduler has to answer before `run` gives up, before any training


class SweepError(RuntimeError):
    """Some runs of a sweep failed; the others were written."""


def sweep(
    specs: list[Spec],
    jobs: int = 1,
    scheduler: str | None = None,
    force: bool = False,
    train: bool = True,
    into: Path | None = None,
    progress: bool = True,
) -> list[Run | None]:
    """Every spec's finished run, in order. Missing runs (all, with force) are computed, unless train is False:
    then they come back as None (make report analyses what exists and names what is missing). New runs are
    written into `into` (default: this process's output, which is scratch/ unless the pipeline publishes)."""
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    into = into or store.output() / store.RUNS
    store.clean_stale(into) if into.is_dir() else None
    names = [spec.name for spec in specs]
    found = {name: None if force else runs.find(name) for name in dict.fromkeys(names)}
    todo = {}
    for spec, name in zip(specs, names, strict=True):
        run = found[name]
        if run is None or spec.weights and not run.has():
            todo.setdefault(name, spec)
    if train and todo:
        if force:  # computed anew from step 0, whatever an earlier attempt left
            for name in todo:
                runs.snapshot_path(into, name).unlink(missing_ok=True)
        resuming = {name: s for name in todo if (s := snapshot_step(runs.snapshot_path(into, name))) is not None}
        if resuming and progress:
            tqdm.write(f"resuming {len(resuming)} of {len(todo)} runs from their snapshots:", file=sys.stderr)
            for name, step in resuming.items():
                tqdm.write(f"  {name} from step {step:,}", file=sys.stderr)
        found |= _compute(_after_starts(list(todo.values())), jobs, scheduler, into, progress, force)
    return [found[name] for name in names]


def _after_starts(specs: list[Spec]) -> list[Spec]:
    """specs in their order, except that a run that starts from another (`Spec.start`) comes right after it: on
    Dask it is submitted as soon as that run is written, not after every other run of the sweep."""
    dependents = {}
    for spec in specs:
        if spec.start is not None:
            dependents.setdefault(spec.start, []).append(spec)
    ordered, names = [], {s.name for s in specs}
    for spec in specs:
        if spec.start is None or spec.start not in names:
            ordered += [spec, *dependents.get(spec.name, [])]
    return ordered + [s for s in specs if s.start in names and s not in ordered]


def _ready(spec: Spec) -> bool:
    """Whether spec can start: it starts from no run, or from a finished run with its weights."""
    if spec.start is None:
        return True
    run = runs.find(spec.start)
    return run is not None and run.has()


def snapshot_step(path: Path) -> int | None:
    """The step a run's snapshot was taken at, or None when it has none (or a damaged one)."""
    snap = load_snapshot(path) if path.is_file() else None
    return None if snap is None else int(snap["step"])


def _finished(spec: Spec) -> Run | None:
    """spec's finished run, with its weights if spec asks for them, or None."""
    run = runs.find(spec.name)
    return run if run is not None and (run.has() or not spec.weights) else None


def _compute(
    specs: list[Spec], jobs: int, scheduler: str | None, into: Path, progress: bool, force: bool
) -> dict[str, Run]:
    done, failed, locks = {}, [], {}  # locks: name -> the lock this sweep holds on its run, None if another does
    if not specs:
        return done
    try:
        with tqdm(total=len(specs), desc="runs", unit="run", file=sys.stderr, disable=not progress) as bar:
            _run_all(specs, jobs, scheduler, into, progress, force, bar, done, failed, locks)
    finally:  # an interrupted sweep (a notebook's kernel lives on) releases its locks
        for name, lock in locks.items():
            if lock is not None:
                store.unlock(lock, name in done)
    for spec in (s for s in specs if s.name in locks and locks[s.name] is None):  # another process computed them
        if (run := _finished(spec)) is not None:
            done[spec.name] = run
        else:
            failed.append(f"{spec.name}: being computed by another process (run this again once it has finished)")
    if failed:
        raise SweepError(f"{len(failed)} of {len(specs)} runs not written (the others were):\n" + "\n".join(failed))
    return done


def _lock(spec: Spec, into: Path, locks: dict, bar) -> bool:
    """Take the lock on spec's run for this sweep; False (the run left for now) if another process holds it."""
    locks[spec.name] = store.lock(into / spec.name)
    if locks[spec.name] is None:
        bar.update()
    return locks[spec.name] is not None


def _run_all(specs, jobs, scheduler, into, progress, force, bar, done, failed, locks) -> None:
    """Compute specs in this process or on Dask, filling done (name -> run), failed (one line per run) and locks."""
    if jobs == 1 and scheduler is None:
        for spec in specs:
            if not _lock(spec, into, locks, bar):
                continue
            if not force and (found := _finished(spec)) is not None:  # another sweep finished it meanwhile
                done[spec.name] = found
            else:
                snapshot = runs.snapshot_path(into, spec.name)
                result = compute.compute(spec, threads=THREADS, progress=progress, snapshot=snapshot)
                done[spec.name] = runs.write(result, into)
                snapshot.unlink(missing_ok=True)
            store.unlock(locks.pop(spec.name), spec.name in done)
            bar.update()
    else:
        from distributed import Client, LocalCluster, as_completed

        # any free port for the scheduler's web server, so that two sweeps at once (make runs, make test) never clash
        cluster = None if scheduler else LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                                      dashboard_address=":0")  # fmt: skip
        with Client(scheduler or cluster, timeout=f"{SCHEDULER_TIMEOUT}s") as client:
            # Submit lazily, a few runs per worker at a time and in order, so that the longest runs start first and
            # a run that another process finished meanwhile is found instead of computed twice.
            # A run that starts from another waits in the queue until that run is written.
            queue, futures = list(specs), {}
            completed = as_completed()

            def submit_next() -> bool:
                """Submit the first queued run that can start; False when none can (yet)."""
                while queue:
                    spec = next((s for s in queue if s.start is None or s.start in done or _ready(s)), None)
                    if spec is None:  # only runs waiting for a start still running ...
                        if not futures:  # ... or for one that failed
                            failed.extend(f"{s.name}: its start run {s.start} did not finish" for s in queue)
                            bar.update(len(queue))
                            queue.clear()
                        return False
                    queue.remove(spec)
                    if not _lock(spec, into, locks, bar):
                        continue
                    if not force and (found := _finished(spec)) is not None:
                        done[spec.name] = found
                        store.unlock(locks.pop(spec.name), spec.name in done)
                        bar.update()
                        continue
                    start = compute.start_weights(spec) if spec.start else None
                    snapshot = runs.snapshot_path(into, spec.name).absolute()
                    future = client.submit(compute.compute, spec, THREADS, False, snapshot, start, pure=False)
                    futures[future] = spec
                    completed.add(future)
                    return True
                return False

            in_flight = 2 * max(jobs, len(client.scheduler_info()["workers"]))
            while len(futures) < in_flight and submit_next():
                pass
            for future in completed:
                spec = futures.pop(future)
                try:
                    done[spec.name] = runs.write(future.result(), into)
                    runs.snapshot_path(into, spec.name).unlink(missing_ok=True)
                except Exception as err:  # a worker that died, or a run that raised: the sweep goes on
                    failed.append(f"{spec.name}: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}")
                store.unlock(locks.pop(spec.name), spec.name in done)
                bar.update()
                while len(futures) < in_flight and submit_next():
                    pass
        if cluster is not None:
            cluster.close()


def missing(specs: list[Spec], runs_found: list[Run | None]) -> list[str]:
    """The names of the specs whose runs are not there (what `make runs` would compute)."""
    return list(dict.fromkeys(s.name for s, r in zip(specs, runs_found, strict=True) if r is None))


def gather(groups: dict[str, list[Spec]], jobs: int = 0, force: bool = False) -> tuple[dict[str, list[Run]], list[str]]:
    """A notebook's runs, group by group, and the names of those missing. When the pipeline publishes (make report)
    nothing is trained: a missing run is left out and named (make runs computes it); anywhere else (JupyterLab,
    other parameters) missing runs are trained, `jobs` at a time (0: one 1-thread worker per core)."""
    specs = [s for group in groups.values() for s in group]
    train = not store.publishing()
    found = iter(sweep(specs, jobs=jobs or cores(), force=force and train, train=train))
    runs_found = {name: [next(found) for _ in group] for name, group in groups.items()}
    absent = missing(specs, [r for group in runs_found.values() for r in group])
    return {name: [r for r in group if r is not None] for name, group in runs_found.items()}, absent


# ----------------------------------------------------------------------------------------------------------------
# make verify: the reproducibility claim, checked


def compare(committed: pd.DataFrame, again: pd.DataFrame) -> list[str]:
    """The differences between two metric tables, elapsed time aside (empty when they are equal)."""
    columns = [c for c in committed.columns if c != "elapsed_s"]
    if list(again.columns) != list(committed.columns) or len(again) != len(committed):
        return [f"shape differs: {committed.shape} committed, {again.shape} now"]
    a, b = committed[columns].reset_index(drop=True), again[columns].reset_index(drop=True)
    b = pd.read_csv(io.StringIO(b.to_csv(index=False)))  # the CSV round trip the committed table took
    diff = (a != b) & ~(a.isna() & b.isna())
    plain = lambda v: v.item() if hasattr(v, "item") else v  # noqa: E731 - 2.66, not np.float64(2.66)
    return [f"row {i} ({a.at[i, 'step']}, {a.at[i, 'split']}) {c}: {plain(a.at[i, c])!r} != {plain(b.at[i, c])!r}"
            for i, c in zip(*diff.to_numpy().nonzero(), strict=True) for c in [columns[c]]][:20]  # fmt: skip


def verify(n: int = 3, seed: int | None = None, max_seconds: float = 600) -> bool:
    """Retrain n random runs of data/runs/ (among those that took at most max_seconds) with their recorded thread
    count, and compare their metrics with the committed ones: one line per run, then a summary. True unless a run
    recorded on this CPU differs (float kernels differ between CPUs, so bitwise equality is only expected on the
    CPU a run records; runs from another CPU, or recording none, are counted apart). ValueError (one line) for an
    n below 1, a max_seconds not above 0, a root that is not a project, or no run to check."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"--n must be at least 1 (a check of no run checks nothing), got {n}")
    if not (math.isfinite(max_seconds) and max_seconds > 0):
        raise ValueError(f"--max-seconds must be a positive number, got {max_seconds}")
    folder = store.check_project() / store.RUNS
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder: there are no runs to verify")
    candidates = []
    for path in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        reason = runs.problem(path)
        if reason is not None:
            print(f"not a run: {path.name}: {reason}")
        elif (run := runs.load(path)).metrics["elapsed_s"].max() <= max_seconds:
            candidates.append(run)
    if not candidates:
        raise ValueError(f"no finished run in {folder} took at most {max_seconds:g} s: nothing to verify")
    chosen = random.Random(seed).sample(candidates, min(n, len(candidates)))
    here, counts = compute.cpu_name(), {"equal": 0, "DIFFERENT": 0, "other CPU": 0}
    for run in chosen:
        spec, env = runs.spec_of(run.config), run.config.get("env", {})
        again = compute.compute(
            spec, threads=env.get("threads", THREADS), progress=False, flush_denormal=env.get("flush_denormal", False)
        )
        differences = compare(run.metrics, again.metrics)
        more = f"{len(differences) - 1}{' or more' if len(differences) == 20 else ' more'}"  # compare lists 20 at most
        first = f": {differences[0]}" + (f" (and {more})" if len(differences) > 1 else "")
        if not differences:
            counts["equal"] += 1
            print(f"equal: {run.name}")
        elif env.get("cpu") != here:
            counts["other CPU"] += 1
            recorded = f"on {env['cpu']}" if env.get("cpu") else "with no CPU recorded"
            print(
                f"differs, computed {recorded} (bitwise equality is only expected on the same CPU): {run.name}{first}"
            )
        else:
            counts["DIFFERENT"] += 1
            print(f"DIFFERENT on the same CPU: {run.name}{first}")
    print(
        f"verify: {len(chosen)} of {len(candidates)} runs retrained on {here}: {counts['equal']} equal, "
        f"{counts['DIFFERENT']} different on the CPU they record, {counts['other CPU']} different and computed "
        "on another CPU (or recording none)"
    )
    return counts["DIFFERENT"] == 0


def check_scheduler(address: str) -> None:
    """ValueError (one line) unless a Dask scheduler answers at address within SCHEDULER_TIMEOUT seconds."""
    from distributed import Client

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Client(address, timeout=f"{SCHEDULER_TIMEOUT}s").close()
    except Exception as err:  # OSError, TimeoutError, ValueError for an address that is not one
        reason = " ".join(str(err).split())[:120] or type(err).__name__
        raise ValueError(
            f"--scheduler {address}: no Dask scheduler answered within {SCHEDULER_TIMEOUT} s ({reason})"
        ) from None


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


positive_int.__name__ = "integer >= 1"  # argparse names the type in its error


def _one_line(message, category, filename, lineno, file=None, line=None) -> str:
    return f"{message}\n"  # a damaged run folder is reported in one line, without the warning's source line


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m grokgpt.sweeps", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    p = sub.add_parser("run", help="compute every run of the registry that is missing from data/runs/")
    p.add_argument(
        "--jobs", type=positive_int, default=cores(), help="runs side by side, one thread each (default: one per core)"
    )
    p.add_argument("--scheduler", help="a Dask scheduler address (tcp://host:8786) instead of local workers")
    p.add_argument("--force", action="store_true", help="recompute every run, finished or not")
    p.add_argument("--only", nargs="+", choices=sorted(experiments.PLANS), help="only these notebooks' runs")
    p.add_argument("--list", action="store_true", help="list the missing runs and stop")
    p = sub.add_parser("verify", help="retrain a random sample of finished runs and compare their metrics")
    p.add_argument("--n", type=positive_int, default=3, help="runs to retrain (default 3)")
    p.add_argument("--seed", type=int, help="seed of the random choice (default: a new choice each time)")
    p.add_argument("--max-seconds", type=float, default=600, help="choose among runs that took at most this long")
    args = parser.parse_args(argv)
    warnings.formatwarning = _one_line
    prog = "make verify" if args.command == "verify" else "make runs"
    try:
        if args.command == "verify":
            return 0 if verify(args.n, args.seed, args.max_seconds) else 1
        return run(args)
    except SweepError as err:
        print(f"{prog}: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; finished runs are kept, the others resume from their snapshots", file=sys.stderr)
        return 130
    except (ValueError, OSError, FloatingPointError) as err:  # bad input, a full disk, a diverged run
        print(f"{prog}: error: {' '.join(str(err).split()) or repr(err)}", file=sys.stderr)
        return 2


def run(args) -> int:
    """`make runs`: every check first, then the missing runs of the registry (or of --only's notebooks)."""
    into = store.check_project() / store.RUNS
    if not args.list:
        store.check_writable(into)
        if args.scheduler:
            check_scheduler(args.scheduler)
    specs = [s for name in args.only for g in experiments.plan(name).values() for s in g] if args.only else None
    specs = experiments.every_spec() if specs is None else list({s.name: s for s in specs}.values())
    if args.list:
        have = sweep(specs, train=False, into=into, progress=False)
        todo = missing(specs, have)
        print(*todo, f"{len(todo)} of {len(specs)} runs missing", sep="\n")
        return 0
    sweep(specs, jobs=args.jobs, scheduler=args.scheduler, force=args.force, into=into)
    print(f"make runs: all {len(specs)} runs of the registry are in {into}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
