"""Supervised models (GRU, LightGBM): each predicts the label of a feature row. Above
features, beside :mod:`kilo.rl`, below the registry that saves them."""
