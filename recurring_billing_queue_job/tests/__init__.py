from . import test_queue_job
from . import test_queue_job_charging
