"""Training: datasets, time splits and the per-symbol trainer that writes the registry.
Above trading in DESIGN.md's layer order; it uses data, features, models, rl, registry
and inference."""
