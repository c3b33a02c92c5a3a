from . import recurring_contract_close_wizard
from . import recurring_contract_renew_wizard
from . import recurring_contract_line_change_wizard
