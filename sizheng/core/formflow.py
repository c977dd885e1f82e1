"""The one way a view runs a form through a service (ARCHITECTURE §3: views validate and call one service).

``result, status = run(request, form, save)``: on GET nothing happens (None, 200); on POST an invalid
form gives (None, 422); ``save(cleaned_data)`` raising a ValidationError puts the messages on the
form's fields (422), a Conflict becomes a form error (409); otherwise (result, 200) and the view
redirects. The view re-renders with ``status`` whenever ``result`` is None.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from sizheng.core.apitools import Conflict


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form: on its field when the form has it, else on top."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def run(request, form: forms.Form, save: Callable[[dict], Any]) -> tuple[Any, int]:
    """Validate ``form`` on POST and hand its cleaned data to ``save`` (see the module docstring)."""
    if request.method != "POST":
        return None, 200
    if not form.is_valid():
        return None, 422
    try:
        return save(form.cleaned_data), 200
    except Conflict as exc:
        form.add_error(None, exc.message)
        return None, 409
    except ValidationError as exc:
        add_service_errors(form, exc)
        return None, 422
