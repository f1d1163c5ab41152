"""Page sections owned by one part of the engine each (drawn by one call from a page)."""
