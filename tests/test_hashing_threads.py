"""Password hashing runs on its own threads, below the event loop's priority (issue 11)."""

import asyncio
import os
import threading

from app.core import security


def _probe() -> tuple[int, str]:
    return os.getpriority(
        os.PRIO_PROCESS, threading.get_native_id()
    ), threading.current_thread().name


async def test_hashing_threads_yield_the_cpu_to_the_event_loop() -> None:
    loop = asyncio.get_running_loop()
    own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    niceness, name = await loop.run_in_executor(security._hashing_pool, _probe)
    assert name.startswith("argon2")
    assert niceness == max(own, security.HASHING_NICENESS)
    assert own < security.HASHING_NICENESS  # the loop itself keeps its priority
    assert await security.verify_password_in_thread(
        await security.hash_password_in_thread("a long passphrase"), "a long passphrase"
    )


async def test_at_most_the_configured_hashes_run_at_once() -> None:
    running, most = 0, 0
    guard = threading.Lock()
    release = threading.Event()

    def hold() -> None:
        nonlocal running, most
        with guard:
            running += 1
            most = max(most, running)
        release.wait(1)
        with guard:
            running -= 1

    loop = asyncio.get_running_loop()
    waiting = [loop.run_in_executor(security._hashing_pool, hold) for _ in range(4)]
    await asyncio.sleep(0.2)
    release.set()
    await asyncio.gather(*waiting)
    assert most == security.HASHING_THREADS
