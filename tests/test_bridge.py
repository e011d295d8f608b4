"""The greenlet bridge: blocking-style code awaiting on the loop without blocking it."""

import asyncio

import pytest
import uvloop

from horde.bridge import BridgeError, await_, in_bridge, run_blocking


def test_values_and_exceptions_cross_the_bridge():
    async def double(x):
        await asyncio.sleep(0)
        return 2 * x

    async def explode():
        await asyncio.sleep(0)
        raise KeyError("inside the loop")

    def blocking_code():
        assert in_bridge()
        total = sum(await_(double(i)) for i in range(5))
        try:
            await_(explode())
        except KeyError as exc:
            return total, str(exc)
        return total, None

    assert uvloop.run(run_blocking(blocking_code)) == (20, "'inside the loop'")


def test_many_bridged_callers_wait_concurrently():
    def nap():
        await_(asyncio.sleep(0.2))
        return 1

    async def main():
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        results = await asyncio.gather(*(run_blocking(nap) for _ in range(100)))
        return sum(results), loop.time() - t0

    count, elapsed = uvloop.run(main())
    assert count == 100
    assert elapsed < 1.0  # 100 x 0.2 s sequentially would be 20 s


def test_await_outside_the_bridge_is_a_clear_error():
    async def main():
        assert not in_bridge()
        coro = asyncio.sleep(0)
        with pytest.raises(BridgeError, match="use 'await' in async tasks"):
            await_(coro)

    uvloop.run(main())


def test_cancellation_reaches_the_blocking_code():
    seen = []

    def waits_forever():
        try:
            await_(asyncio.sleep(60))
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    async def main():
        task = asyncio.ensure_future(run_blocking(waits_forever))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    uvloop.run(main())
    assert seen == ["cancelled"]
