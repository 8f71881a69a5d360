"""The one signal for "not now, later": a wait that is nobody's fault.

It lives in the kit because both ports speak it: the provider pacer raises it when the budget
has no slot soon, and the job queue reschedules a job that raises it without spending an
attempt.
"""

from __future__ import annotations


class RetryLater(Exception):
    """Raised by a task: run this job again in ``seconds``, without spending an attempt.

    For waits that are nobody's fault (a provider budget spent until tomorrow): the worker
    slot is released instead of sleeping through it.
    """

    def __init__(self, seconds: float, reason: str = "retry requested") -> None:
        super().__init__(f"{reason}; retry in {seconds:.1f} s")
        self.seconds = max(0.0, float(seconds))
        self.reason = reason
