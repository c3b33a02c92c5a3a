# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Selections shared by contracts, templates, products and settings."""

RULE_TYPE_SELECTION = [
    ("daily", "Days"),
    ("weekly", "Weeks"),
    ("monthly", "Months"),
    ("yearly", "Years"),
]
INVOICING_MODE_SELECTION = [
    ("advance", "In advance"),
    ("arrears", "In arrears"),
]
INVOICE_ACTION_SELECTION = [
    ("draft", "Create draft"),
    ("post", "Post"),
    ("post_send", "Post and send"),
]
