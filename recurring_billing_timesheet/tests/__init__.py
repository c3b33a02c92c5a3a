from . import test_timesheet_usage
