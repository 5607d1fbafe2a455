"""How `agm accounts list` draws an account's per-model quota: one bar line per model.

`quota_lines` is the one place the bars are rendered (the table's layout is `cli`'s business):
`gemini-3-flash: 50% █████░░░░░ resets in 4h12m`. Pure: the clock is a parameter.
"""

from __future__ import annotations

from datetime import datetime

from .accounts.store import Account

BAR_WIDTH = 10
FULL, EMPTY = "█", "░"


def bar(percentage: int, width: int = BAR_WIDTH) -> str:
    filled = round(max(0, min(100, percentage)) * width / 100)
    return FULL * filled + EMPTY * (width - filled)


def until(reset_time: str, now: float) -> str:
    """`in 4h12m` for an RFC 3339 reset time; the raw text when it does not parse."""
    try:
        seconds = datetime.fromisoformat(reset_time).timestamp() - now
    except ValueError:
        return reset_time
    if seconds <= 0:
        return "now"
    minutes = int(seconds // 60)
    days, hours, mins = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return f"in {days}d{hours}h"
    return f"in {hours}h{mins:02d}m" if hours else f"in {mins}m"


def quota_lines(account: Account, now: float) -> str:
    """One line per model, sorted by name; "-" without a snapshot."""
    lines = []
    for name, model in sorted(account.quota.models.items()):
        line = f"{name}: {model.percentage}% {bar(model.percentage)}"
        if model.reset_time:
            line += f" resets {until(model.reset_time, now)}"
        lines.append(line)
    return "\n".join(lines) or "-"
