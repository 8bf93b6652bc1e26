"""Sequence core: FASTA/GenBank reading and validation, assembly statistics, gene calling.

Pure code: it reads only the stream it is given, never prints and never touches the catalog
or the data folder (that is :mod:`lanhai.store.sequences`).
"""
