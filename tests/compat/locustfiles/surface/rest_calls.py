"""FastHttpUser.rest(): JSON in, resp.js out, failures worded as Locust words them."""

from locust import FastHttpUser, constant, task


class Api(FastHttpUser):
    wait_time = constant(0.1)

    @task
    def calls(self):
        with self.rest("POST", "/authenticate", json={"username": "ann"}) as resp:
            assert resp.js["message"] == "Welcome ann!"
        with self.rest("POST", "/authenticate", json={"username": "bob"}, name="asserted") as resp:
            assert resp.js["message"] == "nope", "not welcome"
        with self.rest("POST", "/authenticate", json={}, name="with response,") as resp:
            assert resp.js["message"] == "nope", "not welcome,"
        with self.rest("GET", "/", name="not json"):
            pass
        with self.rest("POST", "/authenticate", json={}, name="raised") as resp:
            resp.js["missing"]
