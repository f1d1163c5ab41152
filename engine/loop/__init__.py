"""The write path in loop order: request/answer records, the Engine (bucket -> route -> call ->
quality -> hypotheses -> event -> adapt), the quality scorer, the hypotheses registry, simulation.
"""
