"""Genome projects: how good an assembly is and how far a programme has got.

- :mod:`lanhai.genomes.quality`: an assembly's metrics (contig/scaffold N50, QV, BUSCO …),
  the checks that refuse impossible values, metrics computed from the sequences, and
  readers for BUSCO, compleasm and Merqury reports.
- :mod:`lanhai.genomes.standards`: the EBP, VGP, B10K and GoaT standards shipped as data,
  and whether an assembly meets each, naming the criterion it fails.
- :mod:`lanhai.genomes.ncbi`: NCBI assembly summary tables read into metrics, with a
  problem per faulty row.
- :mod:`lanhai.genomes.status`: the status ladder of a species, from target to published
  assembly.
- :mod:`lanhai.genomes.progress`: progress per taxon against a project's targets.

The package is pure: no database, no network.
"""
