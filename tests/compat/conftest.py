"""The compatibility suite's shared pieces: Locust's vendored examples are data, not tests."""

# locust_examples/test_pytest.py is one of Locust's examples, not a test of horde's.
collect_ignore_glob = ["locust_examples/*"]
