"""Action arguments read as ids: within the stored range, or the button is refused."""

from __future__ import annotations

import pytest

from bot.core.actions import int_arg, int_args, split_action
from bot.core.commands import INT_MAX
from bot.core.errors import UserError


def test_int_args_read_the_ids_the_bot_wrote() -> None:
    assert int_args(split_action("fg:3:12:0")[1], 3) == [3, 12, 0]
    assert int_arg(split_action(f"sv:{INT_MAX}")[1]) == INT_MAX
    assert int_args(["7", "extra"], 1) == [7]


@pytest.mark.parametrize(
    "args", [[], [""], [str(INT_MAX + 1)], [str(2**63)], ["-1"], ["1.0"], ["x"], ["²"], ["1"]]
)
def test_int_args_refuse_what_the_bot_did_not_write(args: list[str]) -> None:
    with pytest.raises(UserError) as err:
        int_args(args, 2 if args == ["1"] else 1)
    assert err.value.key == "error.action.unknown"
