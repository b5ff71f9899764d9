"""Features: the causal FeatureEngine, the Preprocessor and the target."""

from kilo.features.engine import FeatureEngine
from kilo.features.preprocessor import Preprocessor
from kilo.features.target import make_target

__all__ = ["FeatureEngine", "Preprocessor", "make_target"]
