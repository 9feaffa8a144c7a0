"""The class's market: lesson 1's market with the class's loss aversion, beside the
same market where nobody is loss-averse (λ = 1).

Each customer's λ is drawn from the class's consistent answers: a student picked at
random, then a value uniform in their band (:func:`~.elicitation.draw_loss_aversion`),
with the model's own random generator, so the seed fixes the run. The λ = 1 market
makes the same draws and then sets every λ to 1, so the two markets differ in loss
aversion only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .controls import ClassroomModel
from .elicitation import Band, draw_loss_aversion
from .lessons import LESSONS

__all__ = ["MARKET_LESSON", "MARKET_SEED", "class_markets"]

#: The lesson whose market the class runs: one clearly better release, a legacy market.
MARKET_LESSON = "kink"
#: The seed of the class's market unless the teacher's page sends another.
MARKET_SEED = 42


def class_markets(
    bands: Sequence[Band], seed: int = MARKET_SEED
) -> tuple[ClassroomModel, ClassroomModel]:
    """(the market with the class's λ, the same market at λ = 1)."""
    lesson = LESSONS[MARKET_LESSON]
    markets = []
    for with_class in (True, False):
        model = lesson.model(seed=seed)
        drawn = draw_loss_aversion(bands, model.n_customers, model.rng)
        model.set_loss_aversion(drawn if with_class else np.ones_like(drawn))
        markets.append(model)
    return markets[0], markets[1]
