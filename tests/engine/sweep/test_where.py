"""Grid constraints: a small, safe expression language over the parameters."""

import pytest

from engine.sweep.where import Where


def test_comparisons_logic_and_arithmetic():
    where = Where("fast < slow and not (slow - fast < 10 or fast * 4 > slow)", {"fast", "slow"})
    assert where({"fast": 5, "slow": 30}) and not where({"fast": 5, "slow": 12}) and not where({"fast": 10, "slow": 30})
    assert Where("5 <= fast < slow <= 60", {"fast", "slow"})({"fast": 5, "slow": 60})
    assert not Where("5 <= fast < slow <= 60", {"fast", "slow"})({"fast": 5, "slow": 61})
    assert Where("mode == 'fast' or -fast > -3", {"fast", "mode"})({"fast": 1, "mode": "slow"})


@pytest.mark.parametrize("text, says", [
    ("size > 1", "'size' is not a parameter"), ("fast.real", "Attribute"), ("len(fast)", "Call"),
    ("fast if slow else 1", "IfExp"), ("fast in [1]", "only <"), ("fast <", "not an expression"),
    ("fast @ slow", "only +"),
])
def test_anything_else_is_refused_with_what_and_why(text, says):
    with pytest.raises(ValueError, match="--where") as info:
        Where(text, {"fast", "slow"})
    assert says in str(info.value)
