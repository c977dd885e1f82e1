"""Views of the systems area (being built)."""

urlpatterns: list = []
