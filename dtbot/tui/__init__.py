"""`dtbot tui`: the Textual dashboard, working on the database and cache through the service layer.

Screens (one per tab, switched with the number keys) live in `screens/`, the
widgets they share in `widgets/`, the styles in `dashboard.tcss`. Every call
to a service runs in a Textual worker, so the interface never waits on I/O.
"""
