"""What every layer above the config uses: one parallel dispatcher (local processes or
Ray), one thread-limit helper, and the MLflow tracking."""

from kilo.runtime.parallel import dispatch, start_ray, threads_per_job
from kilo.runtime.threads import limit_threads

__all__ = ["dispatch", "limit_threads", "start_ray", "threads_per_job"]
