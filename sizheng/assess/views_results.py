"""Views of the results area (being built)."""

urlpatterns: list = []
