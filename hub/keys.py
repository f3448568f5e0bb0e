"""Hub keys, built once: hot paths publish these pre-built tuples.

Namespaces: ``md`` market data, ``model`` derived state, ``cmd`` commands to
an agent, ``evt`` events an agent reports, ``sys`` the engine itself. Keys name
a message type only; instrument and order ids live in the payload, because
the bus keeps a publisher for every distinct key ever published.
"""

from aiopubsub import Key

BAR = Key("md", "bar")
TRADE = Key("md", "trade")
QUOTE = Key("md", "quote")
MARKET_DATA = Key("md", "*")

INDICATOR_REQUEST = Key("cmd", "indicators")
MARKET_STATE = Key("model", "state")

SUBMIT_ORDER = Key("cmd", "order", "submit")
CANCEL_ORDER = Key("cmd", "order", "cancel")

ORDER_ACCEPTED = Key("evt", "order", "accepted")
ORDER_REJECTED = Key("evt", "order", "rejected")
ORDER_CANCELED = Key("evt", "order", "canceled")
FILL = Key("evt", "fill")
ACCOUNT = Key("evt", "account")
EQUITY_MARKS = Key("evt", "marks")
ACCOUNT_QUERY = Key("cmd", "account", "query")  # AccountQuery: what is the account worth now?
ACCOUNT_VALUE = Key("model", "account")  # AccountValue: the broker's answer (derived state, not journaled)
EVENTS = Key("evt", "*")

AGENT_ERROR = Key("sys", "error")
END_OF_DATA = Key("sys", "end")
SYSTEM = Key("sys", "*")

ALL = Key("*")

__all__ = [name for name in dir() if name.isupper()] + ["Key"]
