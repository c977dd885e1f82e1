"""Views of the weighting area (being built)."""

urlpatterns: list = []
