"""Parameter sweeps: experiment files, parallel (local or Dask) runs, aggregation, report.

The sweep imports the model; the model knows nothing of sweeps. A sweep's data flows
one way, one module per job:

- :mod:`.loader`: an experiment file to a validated :class:`.experiment.Experiment`;
- :mod:`.experiment`: factors, the design table, each design point's parameters;
- :mod:`.columns`: the result columns and their labels;
- :mod:`.executor`: run the design's runs here, in local worker processes or on Dask;
- :mod:`.store`: the results store (Parquet parts, a manifest; resume);
- :mod:`.aggregate`: per-point means and 95 % confidence intervals, winners, Sobol;
- :mod:`.figures` and :mod:`.report`: PNG figures and ``report.md``;
- :mod:`.pipeline`: all of it in order; :mod:`.cli`: ``python run.py sweep``.
"""

from .experiment import Experiment, ExperimentError
from .loader import load_experiment

__all__ = ["Experiment", "ExperimentError", "load_experiment"]
