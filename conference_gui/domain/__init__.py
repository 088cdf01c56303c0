"""Pure-Python meeting logic: no Qt, no network."""
