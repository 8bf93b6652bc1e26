"""The `lanhai` command line."""
