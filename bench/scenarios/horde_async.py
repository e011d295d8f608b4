"""Closed loop of GET / with async tasks (bench/compare.py)."""

from horde import HttpUser, constant, task


class AsyncUser(HttpUser):
    wait_time = constant(0)

    @task
    async def index(self):
        await self.client.get("/")
