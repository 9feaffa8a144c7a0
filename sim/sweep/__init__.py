"""Parameter sweeps: experiment files, parallel (local or Dask) runs, aggregation, report.

The sweep imports the model; the model knows nothing of sweeps. A sweep's data flows
one way, one module per job:

- :mod:`.loader` (with :mod:`.factors`): an experiment file to a validated
  :class:`.experiment.Experiment` (factors, levers, uncertainties);
- :mod:`.experiment`: factors and their roles, replicate rules, the design table, each
  design point's parameters and its runs;
- :mod:`.verdicts`: clear, tie, coin flip or undecided, win probabilities, and the
  replicate rule's looks confirmed on fresh replicates;
- :mod:`.columns` and :mod:`.text`: the result columns and their labels; how numbers
  are written;
- :mod:`.executor`: run the design's runs here, in local worker processes or on Dask;
- :mod:`.store`: the results store (Parquet parts, a manifest; resume);
- :mod:`.aggregate`: per-point means and 95 % confidence intervals, verdicts, Sobol;
- :mod:`.discovery`, :mod:`.tree` and :mod:`.robust`: where each strategy (or option)
  wins (PRIM, a decision tree, feature scores over a noise floor), which option is the
  robust choice for the focal firm (regret, with intervals);
- :mod:`.effects` and :mod:`.tornado`: how each factor moves each firm's outcome;
- :mod:`.figures`, :mod:`.discovery_figures`, :mod:`.report`, :mod:`.discovery_report`:
  PNG figures and ``report.md``; :mod:`.brief`: the one-page ``report.html``, read from
  the CSV files;
- :mod:`.pipeline`: all of it in order; :mod:`.cli`: ``python run.py sweep``.
"""

from .experiment import Experiment, ExperimentError
from .loader import load_experiment

__all__ = ["Experiment", "ExperimentError", "load_experiment"]
