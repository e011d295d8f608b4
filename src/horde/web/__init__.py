"""The web UI: a dashboard and a Locust-compatible JSON API, served on the run's own event loop."""
