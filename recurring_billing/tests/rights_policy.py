# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The rights policy of docs/rights.md in machine-readable form, read by
test_rights_matrix.py: per model, the groups that may read, create and
unlink its sample record, and per stored field the groups that may write it
(writing the field's current value: the rights and the guards answer, not the
value). Keep it and docs/rights.md in step: a new model or field fails the
test until it is listed here."""

# The groups of the matrix, each a test user (the public user is Odoo's).
GROUPS = {
    "public": None,
    "portal": "base.group_portal",
    "salesman_own": "sales_team.group_sale_salesman",
    "salesman_all": "sales_team.group_sale_salesman_all_leads",
    "invoicing": "account.group_account_invoice",
    "manager": "account.group_account_manager",
}

NOBODY = ()
MANAGERS = ("manager",)
BILLING = ("invoicing", "manager")
INTERNAL = ("salesman_own", "salesman_all", "invoicing", "manager")
PORTAL_AND_INTERNAL = ("portal", *INTERNAL)

POLICY = {
    "recurring.contract": {
        "read": PORTAL_AND_INTERNAL,
        "create": INTERNAL,
        "unlink": MANAGERS,
        "write": {
            INTERNAL: [
                "active",
                "adjustment_pending",
                "auto_renew",
                "billing_error",
                "billing_error_date",
                "cancel_request_date",
                "cancel_request_effective_date",
                "cancel_request_reason",
                "close_reason_id",
                "company_id",
                "currency_id",
                "date_end",
                "date_start",
                "fiscal_position_id",
                "indexation_allow_decrease",
                "indexation_cap",
                "indexation_floor",
                "indexation_method",
                "indexation_month",
                "indexation_notice_days",
                "indexation_rate",
                "indexation_reference_month",
                "invoice_action",
                "invoice_ids",
                "invoicing_mode",
                "journal_id",
                "line_ids",
                "minimum_term_months",
                "name",
                "note",
                "notice_days",
                "partner_id",
                "payment_failing",
                "payment_term_id",
                "payment_token_id",
                "period_ids",
                "price_index_id",
                "prorate",
                "recurring_interval",
                "recurring_rule_type",
                "renewal_months",
                "sale_order_id",
                "suspension_ids",
                "template_id",
                "usage_ids",
                "user_id",
            ],
            BILLING: ["indexation_ids"],
            NOBODY: ["mrr_movement_ids", "state"],
        },
    },
    "recurring.contract.close.reason": {
        "read": INTERNAL,
        "create": MANAGERS,
        "unlink": MANAGERS,
        "write": {
            MANAGERS: ["active", "name", "sequence"],
        },
    },
    "recurring.contract.indexation": {
        "read": INTERNAL,
        "create": BILLING,
        "unlink": MANAGERS,
        "write": {
            BILLING: [
                "amount_after",
                "amount_before",
                "base_value",
                "contract_id",
                "date",
                "date_effective",
                "index_rate",
                "notice_date",
                "price_index_id",
                "rate",
                "reference_date",
                "reference_value",
                "state",
            ],
        },
    },
    "recurring.contract.line": {
        "read": PORTAL_AND_INTERNAL,
        "create": INTERNAL,
        "unlink": INTERNAL,
        "write": {
            INTERNAL: [
                "analytic_distribution",
                "contract_id",
                "date_end",
                "date_start",
                "discount",
                "display_type",
                "name",
                "price_unit",
                "product_id",
                "product_uom_id",
                "quantity",
                "quantity_type",
                "sequence",
                "tax_ids",
                "timesheet_account_id",
                "timesheet_project_id",
                "usage_aggregation",
                "usage_ids",
                "usage_included",
                "usage_minimum",
                "usage_price_mode",
                "usage_tiers",
            ],
        },
    },
    "recurring.contract.period": {
        "read": PORTAL_AND_INTERNAL,
        "create": NOBODY,
        "unlink": NOBODY,
        "write": {
            NOBODY: [
                "billed_amounts",
                "contract_id",
                "date_end",
                "date_start",
                "kind",
                "move_ids",
                "period_index",
                "state",
            ],
        },
    },
    "recurring.contract.suspension": {
        "read": INTERNAL,
        "create": NOBODY,
        "unlink": NOBODY,
        "write": {
            NOBODY: ["contract_id", "date_end", "date_start", "reason"],
        },
    },
    "recurring.contract.template": {
        "read": INTERNAL,
        "create": MANAGERS,
        "unlink": MANAGERS,
        "write": {
            MANAGERS: [
                "active",
                "auto_renew",
                "company_id",
                "duration_months",
                "indexation_allow_decrease",
                "indexation_cap",
                "indexation_floor",
                "indexation_method",
                "indexation_month",
                "indexation_notice_days",
                "indexation_rate",
                "indexation_reference_month",
                "invoice_action",
                "invoicing_mode",
                "line_ids",
                "minimum_term_months",
                "name",
                "note",
                "notice_days",
                "price_index_id",
                "prorate",
                "recurring_interval",
                "recurring_rule_type",
                "renewal_months",
                "sequence",
            ],
        },
    },
    "recurring.contract.template.line": {
        "read": INTERNAL,
        "create": MANAGERS,
        "unlink": MANAGERS,
        "write": {
            MANAGERS: [
                "discount",
                "display_type",
                "name",
                "price_unit",
                "product_id",
                "quantity",
                "quantity_type",
                "sequence",
                "template_id",
                "usage_aggregation",
                "usage_included",
                "usage_minimum",
                "usage_price_mode",
                "usage_tiers",
            ],
        },
    },
    "recurring.contract.usage": {
        "read": PORTAL_AND_INTERNAL,
        "create": INTERNAL,
        "unlink": INTERNAL,
        "write": {
            INTERNAL: ["date", "line_id", "quantity", "reference"],
            NOBODY: ["move_line_id", "period_id"],
        },
    },
    "recurring.forecast.line": {
        "read": INTERNAL,
        "create": NOBODY,
        "unlink": NOBODY,
        "write": {
            NOBODY: [
                "amount",
                "amount_currency",
                "company_id",
                "contract_currency_id",
                "contract_id",
                "date",
                "partner_id",
                "period_end",
                "period_start",
                "product_id",
                "template_id",
                "user_id",
            ],
        },
    },
    "recurring.mrr.movement": {
        "read": INTERNAL,
        "create": NOBODY,
        "unlink": NOBODY,
        "write": {
            NOBODY: [
                "contract_id",
                "date",
                "kind",
                "mrr_after",
                "mrr_after_currency",
                "mrr_change",
            ],
        },
    },
    "recurring.payment.attempt": {
        "read": INTERNAL,
        "create": BILLING,
        "unlink": MANAGERS,
        "write": {
            BILLING: [
                "amount",
                "company_id",
                "contract_id",
                "currency_id",
                "date",
                "invoice_id",
                "message",
                "state",
                "token_id",
                "transaction_id",
            ],
        },
    },
    "recurring.price.index": {
        "read": INTERNAL,
        "create": MANAGERS,
        "unlink": MANAGERS,
        "write": {
            MANAGERS: ["active", "code", "name", "note", "value_ids"],
        },
    },
    "recurring.price.index.value": {
        "read": INTERNAL,
        "create": MANAGERS,
        "unlink": MANAGERS,
        "write": {
            MANAGERS: ["date", "index_id", "value"],
        },
    },
}

# Other sample records of a model, in another state: a usage record already
# billed is frozen (only the engine's mark and voiding change it).
SAMPLES = {
    **dict.fromkeys(POLICY),
    "recurring.contract.usage:billed": {
        "read": PORTAL_AND_INTERNAL,
        "unlink": NOBODY,
        "write": {
            NOBODY: [
                "date",
                "line_id",
                "move_line_id",
                "period_id",
                "quantity",
                "reference",
            ],
        },
    },
}
