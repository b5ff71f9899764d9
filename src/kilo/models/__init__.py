"""Supervised models: each predicts the forward log return of a feature row."""
