"""Who may download the app's attachments (imported by ``VolunteerConfig.ready``): an activity's file
whoever sees the activity; a checklist item's evidence whoever sees the application."""

from __future__ import annotations

from sizheng.core.files import register_access
from sizheng.volunteer.access import may_read_activity_file, may_read_item_file

register_access("volunteer_activity", may_read_activity_file)
register_access("civility_item", may_read_item_file)
