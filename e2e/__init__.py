"""End-to-end journeys, one per role (see README.md)."""
