"""Routing: question scorers (routers), sticky A/B bucketing, the adaptive controller and its state file."""
