"""The dashboard's screens: one per tab, plus the dialogs they open."""
