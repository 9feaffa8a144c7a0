"""Agent-based simulator of innovation adoption under loss aversion, trust and co-creation."""

from importlib.metadata import PackageNotFoundError, version

from .model import InnovationModel
from .parameters import FIRM_PARAMETERS, MODEL_PARAMETERS
from .spec import ParameterError
from .strategies import STRATEGIES, Strategy, register

try:
    __version__ = version("innovation-adoption")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.1.0"

__all__ = [
    "FIRM_PARAMETERS",
    "MODEL_PARAMETERS",
    "STRATEGIES",
    "InnovationModel",
    "ParameterError",
    "Strategy",
    "__version__",
    "register",
]
