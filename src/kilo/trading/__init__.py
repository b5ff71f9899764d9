"""Paper trading: model sets per symbol, blended, through a paper broker into a ledger."""
