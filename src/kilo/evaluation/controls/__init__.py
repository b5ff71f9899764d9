"""Controls with a known answer: candles rebuilt (placebo, planted signal, label
shuffle), the planted power curve and its detection floor, and the leak drills."""
