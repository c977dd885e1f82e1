"""Who may download a library file (core.files owner kind ``library_material``): whoever sees the
material — its audience once published, its editors while a draft. Imported by ``ready()``."""

from __future__ import annotations

from sizheng.core.files import register_access
from sizheng.library.access import may_read_material_file
from sizheng.library.models import MATERIAL_OWNER_KIND

register_access(MATERIAL_OWNER_KIND, may_read_material_file)
