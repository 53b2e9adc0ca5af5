"""The cache channel on which processes tell each other that shared state changed."""

CHANNEL = "changes"
SETTINGS_CHANGED = "settings"
KEYS_CHANGED = "keys"
