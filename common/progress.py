"""Time left on a progress bar: from the work done so far, else from an estimate made up front."""

from __future__ import annotations


def duration(seconds: float) -> str:
    """'8 s', '3 min 40 s', '1 h 5 min': rounded as an estimate should be."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        minutes, rest = divmod(seconds, 60)
        return f"{minutes} min {rest // 10 * 10} s" if rest >= 10 else f"{minutes} min"
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h {rest // 60} min"


def time_left(done: int, elapsed: float | None, speed_left: float | None, estimate: float | None) -> str:
    """'about 2 min 30 s left': from the pieces done so far, else from the estimate ('' if neither)."""
    left = (
        speed_left
        if done and speed_left is not None
        else (estimate - (elapsed or 0.0) if estimate is not None else None)
    )
    return "" if left is None else f"about {duration(max(left, 0.0))} left"


def time_left_column(estimate: float | None):
    """A rich progress column showing time_left() for its task."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class TimeLeft(ProgressColumn):
        def render(self, task):
            return Text(time_left(int(task.completed), task.elapsed, task.time_remaining, estimate))

    return TimeLeft()
