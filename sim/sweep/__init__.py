"""Parameter sweeps: experiment files, parallel (local or Dask) runs, aggregation, report.

The sweep imports the model; the model knows nothing of sweeps. A sweep's data flows
one way, one module per job:

- :mod:`.loader` (with :mod:`.factors`): an experiment file to a validated
  :class:`.experiment.Experiment`;
- :mod:`.experiment`: factors, replicate rules, the design table, each design point's
  parameters and its runs;
- :mod:`.columns` and :mod:`.text`: the result columns and their labels; how numbers
  are written;
- :mod:`.executor`: run the design's runs here, in local worker processes or on Dask;
- :mod:`.store`: the results store (Parquet parts, a manifest; resume);
- :mod:`.aggregate`: per-point means and 95 % confidence intervals, winners, Sobol;
- :mod:`.discovery` and :mod:`.robust`: where each strategy wins (PRIM), which is the
  robust choice for one firm (regret);
- :mod:`.figures`, :mod:`.discovery_figures`, :mod:`.report`, :mod:`.discovery_report`:
  PNG figures and ``report.md``;
- :mod:`.pipeline`: all of it in order; :mod:`.cli`: ``python run.py sweep``.
"""

from .experiment import Experiment, ExperimentError
from .loader import load_experiment

__all__ = ["Experiment", "ExperimentError", "load_experiment"]
