# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The pure cores: schedule, MRR maths, usage rating, indexation arithmetic,
the dunning schedule and the billing plan. Plain Python, no Odoo import
(``make test-core`` runs their tests without a database, and checks that)."""

from . import dunning, indexation, plan, schedule, usage  # noqa: F401
