from . import recurring_contract_line
from . import account_analytic_line
