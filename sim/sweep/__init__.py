"""Parameter sweeps: experiment files, parallel (local or Dask) runs, aggregation, report.

The sweep imports the model; the model knows nothing of sweeps. Modules:

- :mod:`.experiment`: load and validate experiment files, generate the design;
- :mod:`.store`: the results store (one Parquet part per run, a manifest; resume);
- :mod:`.executor`: run the design's runs in local worker processes or on Dask;
- :mod:`.aggregate`: per-point means and 95 % confidence intervals, winners, Sobol;
- :mod:`.figures` and :mod:`.report`: PNG figures and ``report.md``;
- :mod:`.cli`: ``python run.py sweep``.
"""

from .experiment import Experiment, ExperimentError, load_experiment

__all__ = ["Experiment", "ExperimentError", "load_experiment"]
