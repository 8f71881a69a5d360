"""One process hammering a shared Redis pacer: ``url prefix out coroutines count [pause_after]``.

Writes one line per grant (``grant <wall time>``) and, if asked, one ``pause <wall time>``.
"""

from __future__ import annotations

import asyncio
import sys
import time

from redis.asyncio import Redis

from somna.pacing import RedisPacer
from tests.pacing.test_pacer import FAST


async def main(
    url: str, prefix: str, out: str, coroutines: int, count: int, pause_after: int
) -> None:
    pacer = RedisPacer(Redis.from_url(url), prefix, {"fake": FAST}, max_wait=30)
    granted = 0
    with open(out, "a", encoding="utf-8") as handle:  # noqa: ASYNC230 - a test probe

        async def loop(index: int) -> None:
            nonlocal granted
            for _ in range(count):
                await pacer.acquire("fake", f"{out}:{index}")
                handle.write(f"grant {time.time():.6f}\n")
                granted += 1
                if granted == pause_after:
                    handle.write(f"pause {time.time():.6f}\n")
                    await pacer.pause("fake", 0.8)

        await asyncio.gather(*(loop(index) for index in range(coroutines)))
    await pacer.aclose()


if __name__ == "__main__":
    url, prefix, out = sys.argv[1:4]
    numbers = [int(value) for value in sys.argv[4:]]
    asyncio.run(main(url, prefix, out, *numbers))
