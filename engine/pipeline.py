"""Builds the agents every run mode shares and attaches them in the order that defines a bar's life.

Wiring order is semantics: on a bar the broker acts first (fills orders
decided on earlier bars at this bar's open, then marks to market), then the
model state updates indicators and hands them to the strategy, which decides
on this bar's close. That is backtrader's per-bar order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from agents.base import Agent
from agents.broker import PER_SHARE, PERCENT, BrokerAgent, BrokerConfig, Commission, Slippage
from agents.model_state import ModelStateAgent
from agents.strategy_host import StrategyHost
from engine.config import Config
from hub.bus import Bus
from strategies import load_strategy


@dataclass
class Pipeline:
    broker: BrokerAgent
    model_state: ModelStateAgent
    host: StrategyHost

    @property
    def agents(self) -> list[Agent]:
        return [self.broker, self.model_state, self.host]


def broker_config(config: Config, marks_every: int = BrokerConfig.marks_every) -> BrokerConfig:
    """Translate the flat ``[broker]`` settings into the broker's own models."""
    b = config.broker
    if b.commission and b.commission_per_share:
        raise ValueError("[broker] set either commission (a fraction of value) or commission_per_share, not both")
    if b.commission_per_share:
        commission = Commission(rate=b.commission_per_share, kind=PER_SHARE, minimum=b.min_commission)
    else:
        commission = Commission(rate=b.commission, kind=PERCENT, minimum=b.min_commission)
    return BrokerConfig(
        cash=b.cash, commission=commission, slippage=Slippage(perc=b.slippage_perc, fixed=b.slippage_fixed),
        fill_on_close=b.fill_on_close, check_submit=b.check_submit, volume_cap=b.volume_cap, allow_short=b.allow_short,
        marks_every=marks_every,
    )


def build_pipeline(bus: Bus, clock: Callable[[], int], config: Config, marks_every: int = BrokerConfig.marks_every) -> Pipeline:
    """``marks_every``: the broker's equity marks per published block (1 when someone watches live)."""
    strategy_cls = load_strategy(config.strategy.name)
    pipeline = Pipeline(
        broker=BrokerAgent(bus, clock, broker_config(config, marks_every)),
        model_state=ModelStateAgent(bus, clock),
        host=StrategyHost(bus, clock, strategy_cls, name="strategy", params=config.strategy.params,
                          initial_cash=config.broker.cash),
    )
    for agent in pipeline.agents:
        agent.attach()
    return pipeline
