"""The service layer: every rule, limit and query, shared by the server, the CLI and the dashboard."""
