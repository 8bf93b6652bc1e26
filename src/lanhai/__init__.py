"""Lanhai (蓝海): an open data platform for marine bioresources and synthetic biology."""

__version__ = "0.1.0"
