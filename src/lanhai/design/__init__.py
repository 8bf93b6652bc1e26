"""Strain and pathway design: chassis models, heterologous pathways from the bank's parts,
flux analyses and yields, and growth-coupled knockout designs (a core: cobrapy, optlang and
StrainDesign only; no store, services or adapters).

- :mod:`lanhai.design.chassis`: bundled and uploaded SBML models, their summary;
- :mod:`lanhai.design.pathways`: reactions of parts added and checked, enzyme suggestions;
- :mod:`lanhai.design.analysis`: FBA, pFBA, FVA, envelopes, yields, deletions;
- :mod:`lanhai.design.knockouts`: OptKnock, OptCouple, minimal cut sets, FBA search.
"""
