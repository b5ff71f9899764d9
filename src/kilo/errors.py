"""One exception hierarchy for everything Kilo raises on bad input.

Messages say what was wrong and what to do about it.
"""

from __future__ import annotations

import pickle
import struct
import zipfile


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


class LookAheadError(KiloError):
    """A feature row read a candle after its bar: the evaluation stops (DESIGN.md
    invariants 1 and 8)."""


class ExchangeError(KiloError):
    """The exchange could not be reached or answered with an error."""


#: What reading a damaged or missing file raises (the file missing, truncated, not the
#: format, a key or shape that is not there). Loaders turn these into
#: :class:`ModelSetError`; anything else is a bug and propagates as it is.
UNREADABLE_FILE_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    EOFError,
    ValueError,
    KeyError,
    pickle.UnpicklingError,
    struct.error,
    zipfile.BadZipFile,
)
