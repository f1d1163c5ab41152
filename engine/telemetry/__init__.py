"""Telemetry leaving the process: each answer as an OpenTelemetry GenAI span (otel.py)."""
