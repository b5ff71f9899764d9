"""Paper trading: loaded model sets per symbol, blended, through a paper broker into a
SQLite ledger. Uses inference and everything below; training and evaluation sit above."""
