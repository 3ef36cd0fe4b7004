"""Run every benchmark the way a user meets it and write one machine-readable results file.

    python benchmarks/harness.py                     # full sizes → benchmarks/results.json
    python benchmarks/harness.py --smoke --out X     # tiny sizes (CI)
    python benchmarks/harness.py --only char_lstm lenet_train --rounds 5

Method. Against PyTorch (and scikit-learn's MLP, whose thread pools differ from ours) each
side runs alone in its own fresh Python process: a process imports one framework, builds the
model, warms up (numba compiles, caches fill), then times ``--samples`` runs of the step and
reports them. Processes alternate — gradstat, peer, peer, gradstat, … — for ``--rounds``
rounds, so slow drift on a shared machine hits both sides alike; the ratio is gradstat's best
over the peer's best (the median ratio is recorded too). Two thread settings: the default
(nothing set: what a user gets out of the box; each side's thread counts are recorded) and
one thread (``OMP_NUM_THREADS=OPENBLAS_NUM_THREADS=MKL_NUM_THREADS=1`` for both, plus
``torch.set_num_threads(1)``). Where both sides call NumPy's BLAS (statsmodels, scikit-learn's
linear models) the sides run in one process, interleaved; ``--alternation-check`` times those
also one process per side, to show that sharing a process does not bias them.

Every worker records threadpoolctl's view of its BLAS (library, version, kernel, threads)
and, for PyTorch, ``torch.get_num_threads()``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
SETTINGS = {"default": None, "1 thread": 1}


# --- inside a worker (or the one-process mode) ----------------------------------------------------
def blas_info() -> list[dict[str, Any]]:
    from threadpoolctl import threadpool_info

    keep = ("user_api", "internal_api", "version", "architecture", "num_threads", "threading_layer")
    return [{k: lib.get(k) for k in keep} for lib in threadpool_info()]


def time_step(step: Any, samples: int, min_seconds: float) -> dict[str, Any]:
    """Warm up (one call, timed: it sets how many calls make a sample of ≥ ``min_seconds``),
    then time ``samples`` samples."""
    start = time.perf_counter()
    step()  # compile or load numba's cache, fill caches
    once = time.perf_counter() - start
    number = max(1, round(min_seconds / max(once, 1e-9)))
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        for _ in range(number):
            step()
        times.append((time.perf_counter() - start) / number)
    return {"times": times, "number": number}


def measure(
    workload: str, side: str, size: str, samples: int, min_seconds: float, threads: int | None
) -> dict:
    """Build and time one side of a workload in this process."""
    sys.path.insert(0, str(HERE))
    from workloads import WORKLOADS

    if side in ("pytorch",):
        import torch

        if threads is not None:
            torch.set_num_threads(threads)
    try:
        step, check = WORKLOADS[workload].sides[side](size)
    except (ImportError, AttributeError) as exc:  # a layer this version does not have yet
        return {"unavailable": f"{type(exc).__name__}: {exc}"}
    result = time_step(step, samples, min_seconds)
    result["check"] = check
    result["blas"] = blas_info()
    if side == "pytorch":
        import torch

        result["torch_threads"] = torch.get_num_threads()
    return result


def worker_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="harness.py worker")
    parser.add_argument("workload")
    parser.add_argument("side")
    parser.add_argument("--size", default="full")
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--min-seconds", type=float, default=0.2)
    parser.add_argument("--threads", type=int)
    args = parser.parse_args(argv)
    out = measure(args.workload, args.side, args.size, args.samples, args.min_seconds, args.threads)
    print("RESULT " + json.dumps(out))


# --- the driver ---------------------------------------------------------------------------------------
def run_worker(
    workload: str, side: str, size: str, samples: int, min_seconds: float, threads: int | None
) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
    if threads is not None:
        env.update(dict.fromkeys(THREAD_VARS, str(threads)))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    cmd = [sys.executable, str(Path(__file__).resolve()), "worker", workload, side, "--size", size,
           "--samples", str(samples), "--min-seconds", str(min_seconds)]  # fmt: skip
    if threads is not None:
        cmd += ["--threads", str(threads)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"worker {workload}/{side} failed:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1].removeprefix("RESULT "))


def summarise(per_side: dict[str, list[dict]], peer: str) -> dict[str, Any]:
    """Best and median time of each side over all its processes, and the ratios to the peer."""
    sides: dict[str, Any] = {}
    for side, runs in per_side.items():
        if any("unavailable" in r for r in runs):
            sides[side] = {"unavailable": runs[0]["unavailable"]}
            continue
        times = [t for r in runs for t in r["times"]]
        sides[side] = {
            "best": min(times),
            "median": statistics.median(times),
            "process_bests": [min(r["times"]) for r in runs],
            "check": runs[0]["check"],
            "blas": runs[0]["blas"],
            **({"torch_threads": runs[0]["torch_threads"]} if "torch_threads" in runs[0] else {}),
        }
    ours, theirs = sides.get("gradstat", {}), sides.get(peer, {})
    ratios = {}
    if "best" in ours and "best" in theirs:
        ratios = {
            "ratio_best": ours["best"] / theirs["best"],
            "ratio_median": ours["median"] / theirs["median"],
        }
    for other, data in sides.items():
        if other not in ("gradstat", peer) and "best" in data and "best" in ours:
            ratios[f"ratio_best_{other}"] = ours["best"] / data["best"]
    return {"sides": sides, **ratios}


def run_per_process(
    wl: Any, size: str, rounds: int, samples: int, min_seconds: float, threads: int | None
) -> dict:
    order = list(wl.sides)
    per_side: dict[str, list[dict]] = {side: [] for side in order}
    for r in range(rounds):
        for side in order if r % 2 == 0 else order[::-1]:
            per_side[side].append(run_worker(wl.name, side, size, samples, min_seconds, threads))
    return {"mode": "one process per side", **summarise(per_side, wl.peer)}


def run_one_process(
    wl: Any, size: str, rounds: int, samples: int, min_seconds: float, threads: int | None
) -> dict:
    from threadpoolctl import threadpool_limits

    per_side: dict[str, list[dict]] = {side: [] for side in wl.sides}
    with threadpool_limits(threads):  # None: leave the default
        for r in range(rounds):
            for side in list(wl.sides) if r % 2 == 0 else list(wl.sides)[::-1]:
                per_side[side].append(measure(wl.name, side, size, samples, min_seconds, threads))
    return {"mode": "one process", **summarise(per_side, wl.peer)}


def machine() -> dict[str, Any]:
    import numpy

    versions = {"python": platform.python_version(), "numpy": numpy.__version__}
    for name in ("torch", "sklearn", "statsmodels", "numba", "gradstat"):
        try:
            versions[name] = __import__(name).__version__
        except ImportError:
            versions[name] = None
    return {"platform": platform.platform(), "cpus": os.cpu_count(), "versions": versions}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["worker"]:
        worker_main(argv[1:])
        return {}
    sys.path.insert(0, str(HERE))
    from workloads import WORKLOADS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one round (CI)")
    parser.add_argument("--only", nargs="+", choices=sorted(WORKLOADS), help="these workloads")
    parser.add_argument("--threads", nargs="+", choices=sorted(SETTINGS), default=list(SETTINGS))
    parser.add_argument("--rounds", type=int, default=3, help="processes per side, alternating")
    parser.add_argument("--samples", type=int, default=5, help="timed samples in each process")
    parser.add_argument("--alternation-check", nargs="*", metavar="NAME",
                        help="also time these one-process workloads (all, when none is named) one "
                             "process per side")  # fmt: skip
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    args = parser.parse_args(argv)
    size = "smoke" if args.smoke else "full"
    rounds, samples, min_seconds = (1, 2, 0.0) if args.smoke else (args.rounds, args.samples, 0.2)
    sys.path.insert(0, str(ROOT / "src"))
    report: dict[str, Any] = {
        "generated": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "size": size,
        "machine": machine(),
        "load_average_start": os.getloadavg(),
        "method": __doc__.split("Method. ", 1)[1].split("\n\n", 1)[0].replace("\n", " "),
        "results": [],
    }
    for name in args.only or list(WORKLOADS):
        wl = WORKLOADS[name]
        for label in args.threads:
            threads = SETTINGS[label]
            runner = run_per_process if wl.per_process else run_one_process
            entry = runner(wl, size, rounds, samples, min_seconds, threads)
            entry = {"workload": name, "title": wl.title, "peer": wl.peer, "target": wl.target,
                     "threads": label, **entry}  # fmt: skip
            report["results"].append(entry)
            checked = args.alternation_check
            if checked is not None and not wl.per_process and (not checked or name in checked):
                check = run_per_process(wl, size, rounds, samples, min_seconds, threads)
                entry["ratio_best_one_process_per_side"] = check.get("ratio_best")
            ratio = entry.get("ratio_best")
            shown = f"{ratio:.2f}" if ratio is not None else "n/a"
            print(f"{name:14s} {label:9s} gradstat/{wl.peer} = {shown} (target ≤ {wl.target})", flush=True)
    report["load_average_end"] = os.getloadavg()
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    return report


if __name__ == "__main__":
    main()
