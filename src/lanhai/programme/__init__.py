"""Programme monitoring: the plan's targets as indicators, their values counted from the
bank's records or reported with evidence and approved, quarterly periods frozen when closed,
a progress status per indicator and the funder's report.

- :mod:`lanhai.programme.periods`: quarters (``2026-Q3``), their first and last days;
- :mod:`lanhai.programme.indicators`: an indicator's definition (target, baseline, how it is
  counted) and the shipped file of the plan's targets;
- :mod:`lanhai.programme.progress`: the trend, its projection to the target year and the
  status it gives;
- :mod:`lanhai.programme.report`: the funder's workbook (XLSX), byte-identical for a closed
  period.
"""
