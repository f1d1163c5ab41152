"""What the pages draw with: the sidebar, every chart (charts.py), every number format (format.py), the
action buttons, and the statistics (ab.py) and gateway (gateway.py) sections."""
