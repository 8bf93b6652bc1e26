"""Benchmark: strain design on e_coli_core and iJO1366 (cobrapy's bundled models).

What it measures
    * loading each bundled model offline (:func:`lanhai.design.chassis.load_bundled`);
    * FBA and FVA through :mod:`lanhai.design.analysis` (medium applied and undone, JSON-ready
      result), median of repeats, against the reference in the same run: cobrapy's bare
      ``model.optimize()`` and ``flux_variability_analysis`` on the same model;
    * OptKnock for succinate (anaerobic glucose, at most 3 knockouts) with StrainDesign on
      e_coli_core, with GLPK and with SCIP;
    * OptKnock on iJO1366 (succinate, anaerobic, at most 3 knockouts) within a time budget,
      with the knockable reactions of central metabolism (those iJO1366 shares with
      e_coli_core) as candidates, with StrainDesign's default big-M and with a tighter one
      (``--big-m``, 100), then with every knockable reaction: solver, time, designs found
      (each re-evaluated with FBA), whether the result is partial;
    * the FBA-only search (:func:`lanhai.design.knockouts.search_knockouts`) on iJO1366 with
      the same central candidates and budget, the fallback when the MILP stalls.

Every MILP and LP runs in one thread (GLPK and SCIP as used here are single-threaded); the
machine has 2 cores shared with other work, so the load average is printed.

Run it from the repository root::

    .venv/bin/python -m benchmarks.bench_design
    .venv/bin/python -m benchmarks.bench_design --budget 120 --solvers glpk

It is not a test and asserts nothing; it prints the figures.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import cobra
from cobra.flux_analysis import flux_variability_analysis

from lanhai.design import analysis, chassis, knockouts


def _median(func: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _anaerobic(model: cobra.Model) -> dict[str, float]:
    medium = dict(model.medium)
    medium["EX_o2_e"] = 0.0
    return medium


def _show(result: knockouts.DesignResult, top: int = 5) -> None:
    print(f"    solver {result.solver}, {result.elapsed:.1f} s, {len(result.designs)} designs, "
          f"partial {result.partial}{': ' + result.reason if result.reason else ''}")
    for d in result.designs[:top]:
        e = d.evaluation
        print(f"      {', '.join(d.reactions):<40} growth {e.growth:.4f} /h, succinate "
              f"{e.product_min:.3f}-{e.product_max:.3f}, coupled {e.growth_coupled}; "
              f"genes {' '.join(d.genes)}")


def _flux_timings(name: str, model: cobra.Model, repeats: int) -> None:
    ours = _median(lambda: analysis.fba(model), repeats)
    bare = _median(model.optimize, repeats)
    print(f"  {name}: FBA {ours * 1000:.1f} ms (bare model.optimize {bare * 1000:.1f} ms, "
          f"{ours / bare:.2f}x)")
    fva_repeats = max(1, repeats // 5)
    ours = _median(lambda: analysis.fva(model, fraction_of_optimum=1.0), fva_repeats)
    bare = _median(lambda: flux_variability_analysis(model, fraction_of_optimum=1.0,
                                                     processes=1), fva_repeats)
    print(f"  {name}: FVA of all {len(model.reactions)} reactions {ours:.2f} s (bare cobrapy "
          f"{bare:.2f} s, {ours / bare:.2f}x)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=300.0,
                        help="time budget of each iJO1366 design run, in seconds")
    parser.add_argument("--solvers", default="glpk,scip")
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--big-m", type=float, default=100.0,
                        help="big-M for the second set of iJO1366 MILP runs")
    parser.add_argument("--skip-full", action="store_true",
                        help="skip OptKnock over every knockable reaction of iJO1366")
    args: Any = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # StrainDesign's big-M notices on every GLPK run
    solvers = [s.strip() for s in args.solvers.split(",") if s.strip()]
    print(f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}, "
          f"cobra {cobra.__version__}")

    start = time.perf_counter()
    core = chassis.load_bundled("textbook").model
    core_load = time.perf_counter() - start
    start = time.perf_counter()
    ijo = chassis.load_bundled("iJO1366").model
    ijo_load = time.perf_counter() - start
    print(f"load: e_coli_core {core_load:.2f} s, iJO1366 {ijo_load:.2f} s")
    print(f"growth: e_coli_core {core.slim_optimize():.4f} /h, "
          f"iJO1366 {ijo.slim_optimize():.4f} /h")
    _flux_timings("e_coli_core", core, args.repeats)
    _flux_timings("iJO1366", ijo, max(3, args.repeats // 3))

    print("OptKnock, e_coli_core, succinate, anaerobic, at most 3 knockouts:")
    for solver in solvers:
        _show(knockouts.strain_designs(core, "EX_succ_e", max_knockouts=3, time_limit=120,
                                       solver=solver, medium=_anaerobic(core), max_designs=5))

    medium = _anaerobic(ijo)
    central = [r for r in knockouts.candidates_for(ijo) if r in core.reactions]
    every = knockouts.candidates_for(ijo)
    print(f"OptKnock, iJO1366, succinate, anaerobic, at most 3 knockouts, budget "
          f"{args.budget:g} s, {len(central)} central candidates:")
    for solver in solvers:
        _show(knockouts.strain_designs(ijo, "EX_succ_e", max_knockouts=3,
                                       time_limit=args.budget, solver=solver, medium=medium,
                                       candidates=central, max_designs=5))
    print(f"  the same with big-M {args.big_m:g} (StrainDesign's default is the flux bound, "
          "1000):")
    for solver in solvers:
        _show(knockouts.strain_designs(ijo, "EX_succ_e", max_knockouts=3,
                                       time_limit=args.budget, solver=solver, medium=medium,
                                       candidates=central, max_designs=5, big_m=args.big_m))
    if not args.skip_full:
        print(f"OptKnock, iJO1366, same, every knockable reaction ({len(every)}), big-M "
              f"{args.big_m:g}:")
        _show(knockouts.strain_designs(ijo, "EX_succ_e", max_knockouts=3,
                                       time_limit=args.budget, solver=solvers[0],
                                       medium=medium, max_designs=5, big_m=args.big_m))
    print(f"FBA search, iJO1366, succinate, at most 3 knockouts of the {len(central)} central "
          f"candidates, budget {args.budget:g} s:")
    _show(knockouts.search_knockouts(ijo, "EX_succ_e", max_knockouts=3, time_limit=args.budget,
                                     medium=medium, candidates=central))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
