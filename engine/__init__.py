"""AIOS engine: the closed loop of routing, answering, scoring and provenance.

Everything the dashboard, the CLI and the HTTP API show is computed here. This package never
imports streamlit.
"""

__version__ = "0.1.0"
