"""Phone width: every table of a card scrolls inside its card (``.table-responsive``), so a page of
cards never scrolls sideways at 390 px (the browser check is ``e2e/test_journey_secretary.py``)."""

from __future__ import annotations

import re
from pathlib import Path

from django.contrib.staticfiles import finders

from sizheng.dashboard import cards

TEMPLATES = Path(cards.__file__).resolve().parent / "templates" / "dashboard" / "cards"


def test_every_card_table_is_wrapped_in_a_scrolling_box():
    tables = 0
    for c in cards.CARDS.values():
        text = (TEMPLATES / f"{c.name}.html").read_text(encoding="utf-8")
        for match in re.finditer(r"<table\b", text):
            tables += 1
            before = text[: match.start()].rstrip()
            assert before.endswith('<div class="table-responsive">'), (c.name, match.start())
    assert tables >= 9


def test_a_card_may_shrink_below_its_table_and_hidden_texts_stay_inside():
    with open(finders.find("dashboard/dashboard.css"), encoding="utf-8") as f:
        css = f.read()
    assert re.search(r"\.sz-dash-card \{[^}]*min-width: 0;", css)
    assert re.search(r"\.sz-dash-card \.table-responsive \{ position: relative; \}", css)
