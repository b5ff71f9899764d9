"""One exception hierarchy for everything Kilo raises on bad input.

Messages say what was wrong and what to do about it.
"""

from __future__ import annotations


class KiloError(Exception):
    """Base class of every error Kilo raises on purpose."""


class ConfigError(KiloError):
    """The configuration (file, environment, flags or ``--set``) is invalid."""


class DataError(KiloError):
    """Candle data is missing, unreadable or malformed."""


class ModelSetError(KiloError):
    """A saved model set is missing, corrupt or incompatible."""


class FeatureContractError(ModelSetError):
    """Features handed to a fitted object differ from those it was fit on."""


class ExchangeError(KiloError):
    """The exchange could not be reached or answered with an error."""
