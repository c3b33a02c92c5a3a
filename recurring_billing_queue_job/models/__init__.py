from . import recurring_billing_engine
