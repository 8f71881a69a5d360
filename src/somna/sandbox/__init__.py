"""Faithful local emulators of the provider APIs (WHOOP v2, Asleep) over real HTTP, fed by a
deterministic synthetic-physiology generator. Tests and the demo use them; production never does.

    from somna.sandbox import WhoopSandbox
    with WhoopSandbox(people=3) as whoop:
        settings = Settings(**whoop.settings_overrides())
"""

from somna.sandbox.asleep.server import AsleepSandbox
from somna.sandbox.asleep.state import AsleepConfig
from somna.sandbox.whoop.server import WhoopSandbox
from somna.sandbox.whoop.state import WhoopConfig

__all__ = ["AsleepConfig", "AsleepSandbox", "WhoopConfig", "WhoopSandbox"]
