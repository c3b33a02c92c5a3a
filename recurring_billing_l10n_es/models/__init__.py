from . import recurring_billing_engine
from . import recurring_contract
from . import recurring_contract_period
