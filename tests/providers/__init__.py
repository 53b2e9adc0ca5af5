"""Tests of the provider adapters against the fake LLM server, and of the token counter."""
