"""The DingTalk robot's rules: receiving, queueing, answering once, delivering, and active sending."""
