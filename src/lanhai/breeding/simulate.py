"""Simulated breeding populations for tests and demos, with real simulators.

A pedigree of a few generations (founders, then full-sib families) is simulated down its
actual lines of descent with msprime's fixed-pedigree model, recapitated to a population of
effective size ``ne``, given mutations; tstrait then draws causal SNPs, additive effects and
phenotypes with a chosen heritability. Needs the optional packages ``msprime`` and
``tstrait`` (``pip install lanhai[dev]``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lanhai.breeding.data import FloatArray, Genotypes, Pedigree, Phenotypes
from lanhai.errors import Problem, UsageError


@dataclass
class Population:
    genotypes: Genotypes
    pedigree: Pedigree
    phenotypes: Phenotypes
    true_bv: dict[str, float]
    causal_snps: list[str]
    h2: float


def _imports() -> tuple[Any, Any]:
    try:
        import msprime  # type: ignore[import-untyped,import-not-found,unused-ignore]
        import tstrait  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise UsageError("simulation needs msprime and tstrait", [Problem(
            reason=f"cannot import {err.name}", fix="pip install msprime tstrait")]) from err
    return msprime, tstrait


def simulate(founders: int = 40, generations: int = 3, families: int = 20,
             offspring: int = 8, snps: int = 3000, h2: float = 0.4, causal: int = 100,
             ne: int = 500, seed: int = 1, chromosome_length: float = 1e8) -> Population:
    """Founders (half male), then ``generations`` of ``families`` full-sib families of
    ``offspring`` each, parents drawn at random from the previous generation."""
    msprime, tstrait = _imports()
    rng = np.random.default_rng(seed)
    builder = msprime.PedigreeBuilder(msprime.Demography.isolated_model([ne]))
    ids: list[str] = []
    sire: list[str | None] = []
    dam: list[str | None] = []
    sex: list[str] = []
    gen: list[float] = []
    family: list[str] = []
    prev: list[int] = []
    for i in range(founders):
        prev.append(builder.add_individual(time=generations, is_sample=True))
        ids.append(f"F{i + 1:03d}")
        sire.append(None)
        dam.append(None)
        sex.append("M" if i % 2 == 0 else "F")
        gen.append(0.0)
        family.append("founders")
    for g in range(1, generations + 1):
        males = [p for p in prev if sex[p] == "M"]
        females = [p for p in prev if sex[p] == "F"]
        new: list[int] = []
        for f in range(families):
            s, d = int(rng.choice(males)), int(rng.choice(females))
            for k in range(offspring):
                new.append(builder.add_individual(time=generations - g, is_sample=True,
                                                  parents=[s, d]))
                ids.append(f"G{g}F{f + 1:02d}-{k + 1:02d}")
                sire.append(ids[s])
                dam.append(ids[d])
                sex.append("M" if k % 2 == 0 else "F")
                gen.append(float(g))
                family.append(f"G{g}F{f + 1:02d}")
        prev = new
    tables = builder.finalise(sequence_length=chromosome_length)
    ts = msprime.sim_ancestry(initial_state=tables, model="fixed_pedigree",
                              recombination_rate=1e-8, random_seed=seed)
    ts = msprime.sim_ancestry(initial_state=ts, population_size=ne, recombination_rate=1e-8,
                              random_seed=seed + 1)
    theta = 4 * ne * chromosome_length
    rate = 3.0 * snps / (theta * np.log(2 * len(ids)))
    ts = msprime.sim_mutations(ts, rate=rate, model=msprime.BinaryMutationModel(),
                               random_seed=seed + 2)
    geno = _dosages(ts, len(ids))
    keep = np.flatnonzero((geno.sum(0) > 0) & (geno.sum(0) < 2 * len(ids)))
    if len(keep) > snps:
        keep = np.sort(rng.choice(keep, snps, replace=False))
    sites = ts.tables.sites.position
    snp_names = [f"snp{int(sites[j])}" for j in keep]
    model = tstrait.trait_model(distribution="normal", mean=0, var=1)
    causal_ids = rng.choice(keep, min(causal, len(keep)), replace=False)
    res = tstrait.sim_phenotype(ts, model=model, causal_sites=sorted(int(c) for c in
                                                                     causal_ids),
                                h2=h2, random_seed=seed + 3)
    ph = res.phenotype.sort_values("individual_id")
    y = ph["phenotype"].to_numpy(dtype=float)
    bv = ph["genetic_value"].to_numpy(dtype=float).copy()
    bv -= bv.mean()
    genotypes = Genotypes(ids, snp_names, geno[:, keep].astype(np.float32),
                          ["1"] * len(keep), [int(sites[j]) for j in keep], source="msprime")
    pedigree = Pedigree(ids, sire, dam, np.array(gen), sex, family, source="msprime")
    phen = Phenotypes(ids, {"weight": y}, {"sex": sex}, source="tstrait")
    return Population(genotypes, pedigree, phen, dict(zip(ids, bv.tolist(), strict=True)),
                      [f"snp{int(sites[j])}" for j in sorted(causal_ids)], h2)


def _dosages(ts: Any, n: int) -> FloatArray:
    """Animals × sites allele counts from the two nodes of each individual."""
    gm = ts.genotype_matrix()  # sites × sample nodes
    node_of = {int(u): j for j, u in enumerate(ts.samples())}
    out = np.zeros((n, gm.shape[0]))
    for ind in ts.individuals():
        if ind.id >= n:
            continue
        for node in ind.nodes:
            out[ind.id] += gm[:, node_of[int(node)]]
    return out
