from . import test_timesheet_usage
from . import test_timesheet_rights
