"""Idle users for bench/memory_compare.py: one GET / every 5 s, each on its own keep-alive
connection, in either task style (pick the class on the command line)."""

from horde import HttpUser, constant, task


class IdleAsyncUser(HttpUser):
    wait_time = constant(5)

    @task
    async def index(self):
        await self.client.get("/")


class IdleBlockingUser(HttpUser):
    wait_time = constant(5)

    @task
    def index(self):
        self.client.get("/")
