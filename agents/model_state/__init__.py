"""Model state: per-instrument bar history and incremental indicators matching backtrader.

Public API: :class:`ModelStateAgent` (the agent), :class:`InstrumentState`,
the indicator classes (``KINDS`` maps a spec's kind to its class),
:class:`RingBuffer` and the exact-sum helpers.
"""

from agents.model_state.agent import ModelStateAgent
from agents.model_state.exact_sum import SCALE, mean_of_scaled, scaled
from agents.model_state.indicators import FIELDS, KINDS, Atr, Ema, Rsi, Sma, Smoother, Std, build, check_spec
from agents.model_state.ring import RingBuffer
from agents.model_state.source import Source
from agents.model_state.state import InstrumentState

__all__ = [
    "FIELDS", "KINDS", "SCALE", "Atr", "Ema", "InstrumentState", "ModelStateAgent", "RingBuffer", "Rsi", "Sma",
    "Smoother", "Source", "Std", "build", "check_spec", "mean_of_scaled", "scaled",
]
