"""The only package that knows SQL and file layout."""
