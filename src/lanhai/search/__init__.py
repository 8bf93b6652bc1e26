"""Search the bank: by sequence, protein family, compound structure and catalogue text."""
