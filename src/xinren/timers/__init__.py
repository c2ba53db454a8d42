"""Durable timers: rows with a due time, run exactly once by `xinren tick` or the server loop."""
