"""Helpers for driving the real stack: servers, databases, Redis, proxies."""
