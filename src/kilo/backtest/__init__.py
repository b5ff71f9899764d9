"""The backtest kernel: a bar-by-bar simulator over the trader's own execution and
broker code, the strategies and baselines it trades, and the portfolio kernel that
trades several symbols together through the paper trader. Imports training, trading
and everything below; evaluation, search and retraining build on it."""
