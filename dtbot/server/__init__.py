"""The HTTP face: a Litestar app under `/api`."""
