"""Shared fixtures: the Google simulator (tests/fakes) for every test directory."""

pytest_plugins = ["tests.fakes.fixtures"]
