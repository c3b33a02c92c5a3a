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
# States in which the runs bill a contract: a paused one bills the periods
# that start before its pause (a pause dated in the future).
BILLING_STATES = ("running", "paused")
INVOICE_ACTION_SELECTION = [
    ("draft", "Create draft"),
    ("post", "Post"),
    ("post_send", "Post and send"),
]

INDEXATION_METHOD_SELECTION = [
    ("none", "None"),
    ("index", "Price index"),
    ("fixed", "Fixed percentage"),
]
MONTH_SELECTION = [
    ("1", "January"),
    ("2", "February"),
    ("3", "March"),
    ("4", "April"),
    ("5", "May"),
    ("6", "June"),
    ("7", "July"),
    ("8", "August"),
    ("9", "September"),
    ("10", "October"),
    ("11", "November"),
    ("12", "December"),
]

# What happens to a contract after the last failed retry of a charge, or
# when an invoice stays unpaid too long.
DUNNING_ACTION_SELECTION = [
    ("none", "Nothing"),
    ("pause", "Pause billing"),
    ("close", "Close the contract"),
]
