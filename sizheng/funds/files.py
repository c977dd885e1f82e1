"""Who may download a spending's receipt (core.files owner kind ``funds_spending``); imported by ``ready()``."""

from __future__ import annotations

from sizheng.core import files
from sizheng.funds.access import may_read_receipt
from sizheng.funds.services import RECEIPT_OWNER_KIND

files.register_access(RECEIPT_OWNER_KIND, may_read_receipt)
