"""Views of the rounds area (being built)."""

urlpatterns: list = []
