"""Hot reload: swap in a symbol's newly promoted model set between iterations."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from kilo.config import Config
from kilo.errors import KiloError
from kilo.registry import latest_version
from kilo.trading.symbol_model import SymbolModel

logger = logging.getLogger(__name__)


class HotReloader:
    """Checks each symbol's ``LATEST`` and swaps in a new model set once fully loaded.

    Called by the trader at the start of every iteration, so a swap always falls
    between iterations. The new set is loaded completely (checksums, feature contract)
    before it replaces the old one; if loading fails the old one keeps trading and the
    failure is logged once per version.

    Parameters
    ----------
    models
        The trader's symbol -> :class:`SymbolModel` mapping, updated in place.
    history_rows
        The source's symbol -> candles-per-snapshot mapping, updated in place.
    on_reload
        Called with (symbol, swapped) after every attempt: True for a swap, False for
        a version that failed to load.
    """

    def __init__(
        self,
        config: Config,
        models: dict[str, SymbolModel],
        history_rows: dict[str, int],
        models_dir: str | Path | None = None,
        on_reload: Callable[[str, bool], None] | None = None,
    ) -> None:
        self.config = config
        self.models = models
        self.history_rows = history_rows
        self.on_reload = on_reload
        self.models_dir = Path(models_dir or config.models.dir)
        self._failed: set[tuple[str, str]] = set()

    def __call__(self) -> list[str]:
        """Swap every symbol whose ``LATEST`` changed; return the symbols swapped."""
        swapped = []
        for symbol, current in list(self.models.items()):
            try:
                latest = latest_version(self.models_dir, symbol)
            except KiloError:
                continue
            if latest == current.version or (symbol, latest) in self._failed:
                continue
            try:
                fresh = SymbolModel.load(self.config, symbol, current.engine, str(self.models_dir))
            except Exception:  # keep trading on the old model set whatever went wrong
                logger.exception(
                    "%s: could not load new version %s; still trading %s",
                    symbol,
                    latest,
                    current.version,
                )
                self._failed.add((symbol, latest))
                if self.on_reload is not None:
                    self.on_reload(symbol, False)
                continue
            self.models[symbol] = fresh
            self.history_rows[symbol] = fresh.history_rows
            logger.info(
                "%s: now trading version %s (was %s)", symbol, fresh.version, current.version
            )
            swapped.append(symbol)
            if self.on_reload is not None:
                self.on_reload(symbol, True)
        return swapped
