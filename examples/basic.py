"""The smallest useful scenario: visitors browsing a site, in both task styles.

horde run examples/basic.py -H http://127.0.0.1:8000 -u 50 -r 10 -t 30s --headless
"""

from horde import HttpUser, between, tag, task


class Visitor(HttpUser):
    """Reads pages like a person: a second or two between clicks."""

    wait_time = between(0.5, 2)

    @task(3)
    def home(self):
        # Blocking style, exactly as in Locust: the call returns the response.
        self.client.get("/")

    @tag("slow")
    @task
    async def missing_page(self):
        # Async style: await the same client (or any asyncio library).
        async_response = await self.client.get("/does-not-exist", catch_response=True)
        with async_response as response:
            if response.status_code == 404:
                response.success()  # a 404 is what this page is expected to answer
