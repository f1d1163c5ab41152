"""Drawing helpers shared by the dashboard's pages: sidebar, charts, actions, formats."""
