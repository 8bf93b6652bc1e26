"""Profile packs: sets of HMMs that annotation searches proteins against."""
