from . import recurring_contract_start_wizard
from . import recurring_contract_pause_wizard
from . import recurring_contract_close_wizard
from . import recurring_contract_renew_wizard
from . import recurring_contract_line_change_wizard
