from . import recurring_contract
from . import recurring_contract_period
