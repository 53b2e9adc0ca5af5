"""Tests of the dashboard (`dtbot tui`): Pilot flows per tab and snapshots of the main screens."""
