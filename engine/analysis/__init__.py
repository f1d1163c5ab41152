"""The read side: one event store over the provenance log, the figures, drill-down, the A/B
report and its pure statistics, status. Everything the dashboard, CLI and SLO check show.
"""
