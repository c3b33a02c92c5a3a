from . import test_schedule
from . import test_billing
from . import test_validation
from . import test_lifecycle
from . import test_sale
from . import test_mail
from . import test_portal
from . import test_security
