"""The Streamlit quality dashboard: pages draw what engine functions return (via dashboard.services)."""
