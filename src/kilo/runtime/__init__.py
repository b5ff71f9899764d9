"""What every layer above the config uses: how a command runs its tasks (RunOptions),
one parallel dispatcher (local processes or Ray), one thread-limit helper, and the
MLflow tracking."""

from kilo.runtime.options import BACKENDS, SERIAL, RunOptions, all_cores, threads_per_job
from kilo.runtime.parallel import dispatch, start_ray
from kilo.runtime.threads import limit_threads

__all__ = [
    "BACKENDS",
    "SERIAL",
    "RunOptions",
    "all_cores",
    "dispatch",
    "limit_threads",
    "start_ray",
    "threads_per_job",
]
