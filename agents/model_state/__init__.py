"""Model state: per-instrument bar history and incremental indicators matching backtrader.

Public API: :class:`ModelStateAgent` (the agent), :class:`InstrumentState`
(one instrument's series and indicators), :class:`Indicator` (what every
indicator implements) and the built-ins, :class:`Series` (an input's recent
values), :class:`ExactSum` (exact running sums), and the spec checks.
"""

from agents.model_state.agent import ModelStateAgent
from agents.model_state.exact_sum import ExactSum
from agents.model_state.indicators import Atr, Ema, Indicator, Rsi, Sma, Smoother, Square, Std
from agents.model_state.series import Series
from agents.model_state.specs import FIELDS, KINDS, build, check_spec
from agents.model_state.state import InstrumentState

__all__ = [
    "FIELDS", "KINDS", "Atr", "Ema", "ExactSum", "Indicator", "InstrumentState", "ModelStateAgent", "Rsi",
    "Series", "Sma", "Smoother", "Square", "Std", "build", "check_spec",
]
