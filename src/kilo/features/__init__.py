"""Features: the causal FeatureEngine, the Preprocessor and the labels."""

from kilo.features.engine import FeatureEngine
from kilo.features.preprocessor import Preprocessor
from kilo.features.target import (
    Labels,
    average_uniqueness,
    forward_log_return,
    held_log_return,
    make_labels,
)

__all__ = [
    "FeatureEngine",
    "Labels",
    "Preprocessor",
    "average_uniqueness",
    "forward_log_return",
    "held_log_return",
    "make_labels",
]
