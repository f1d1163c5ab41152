"""Before the loop: prompt recipes (validated on load, hot-reloaded), `choose_recipe`, and the
recipe bandit (pure policy, SQLite store, service).
"""
