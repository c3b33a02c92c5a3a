# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The rights policy of docs/rights.md, checked cell by cell: for every
group, model of the addon and operation (read, create, unlink, and write of
every stored writable field), the operation is tried as a user of that group
through the ORM with ``with_user`` (what XML-RPC does), each in a savepoint
rolled back, and compared with the table in rights_policy.py. A model or a
field the table does not list fails the test: a new one needs a decision."""

import logging
from datetime import date

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import RecurringBillingCommon
from .rights_policy import GROUPS, POLICY, SAMPLES

_logger = logging.getLogger(__name__)

# Columns every model has, written by the ORM itself.
MAGIC_FIELDS = {"id", "create_uid", "create_date", "write_uid", "write_date"}


class _RolledBack(Exception):
    """Raised after a successful operation to roll its savepoint back."""


def policy_fields(model):
    """The fields of ``model`` the table must list for write: stored and
    defined by the addon or its bridges. Those the ORM computes (read-only,
    without inverse) too: the ORM stores what a write gives them, so the
    guards must refuse it."""
    return sorted(
        name
        for name, field in model._fields.items()
        if field.store
        and name not in MAGIC_FIELDS
        and (field._module or "").startswith("recurring_billing")
    )


@tagged("post_install", "-at_install")
class TestRightsMatrix(RecurringBillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.env.company
        cls.customer = cls.env["res.partner"].create(
            {"name": "RB Matrix Customer", "is_company": True}
        )
        cls.users = {"public": cls.env.ref("base.public_user")}
        for name, groups in GROUPS.items():
            if name == "public":
                continue
            vals = {"company_id": company.id, "company_ids": [Command.set(company.ids)]}
            if name == "portal":
                vals = {
                    "partner_id": cls.env["res.partner"]
                    .create({"name": "RB Matrix Contact", "parent_id": cls.customer.id})
                    .id
                }
            cls.users[name] = new_test_user(
                cls.env, login=f"rb_matrix_{name}", groups=groups, **vals
            )
        cls.samples = cls._make_samples()

    @classmethod
    def _make_samples(cls):
        """One record per table row, that its users reach: the contracts are
        the own-documents salesperson's, of the portal user's customer."""
        owner = cls.users["salesman_own"].id
        calls = cls.env["product.product"].create(
            {
                "name": "RB matrix calls",
                "list_price": 0.01,
                "recurring_ok": True,
                "recurring_quantity_type": "usage",
            }
        )
        billed = cls.create_contract(
            partner_id=cls.customer.id,
            user_id=owner,
            invoicing_mode="arrears",
            lines=[
                Command.create({"product_id": cls.product_a.id, "price_unit": 100.0}),
                Command.create({"product_id": calls.id, "price_unit": 0.01}),
            ],
        )
        usage_line = billed.line_ids.filtered(
            lambda line: line.quantity_type == "usage"
        )
        Usage = cls.env["recurring.contract.usage"]
        billed_usage = Usage.create(
            {
                "line_id": usage_line.id,
                "date": date(2026, 1, 5),
                "quantity": 5,
                "reference": "matrix-billed",
            }
        )
        invoice = billed._generate_invoices(date_ref=date(2026, 2, 1))
        assert billed_usage.period_id, "the sample usage record is billed"
        pending_usage = Usage.create(
            {
                "line_id": usage_line.id,
                "date": date(2026, 2, 5),
                "quantity": 5,
                "reference": "matrix-pending",
            }
        )
        fresh = cls.create_contract(
            partner_id=cls.customer.id, user_id=owner, start=date(2026, 3, 1)
        )
        paused = cls.create_contract(partner_id=cls.customer.id, user_id=owner)
        paused.action_pause(date(2026, 2, 1))
        index = cls.env["recurring.price.index"].create(
            {"name": "RB Matrix Index", "code": "RBMX"}
        )
        value = cls.env["recurring.price.index.value"].create(
            {"index_id": index.id, "date": date(2026, 1, 1), "value": 100.0}
        )
        indexation = (
            cls.env["recurring.contract.indexation"]
            .sudo()
            .create({"contract_id": fresh.id, "date": date(2027, 3, 1)})
        )
        forecast = (
            cls.env["recurring.forecast.line"]
            .sudo()
            .create(
                {
                    "contract_id": fresh.id,
                    "company_id": fresh.company_id.id,
                    "date": date(2026, 4, 1),
                    "amount": 100.0,
                }
            )
        )
        attempt = (
            cls.env["recurring.payment.attempt"]
            .sudo()
            .create(
                {
                    "invoice_id": invoice.id,
                    "contract_id": billed.id,
                    "company_id": billed.company_id.id,
                    "date": date(2026, 2, 1),
                    # Failed: one live attempt per invoice, the test creates one.
                    "state": "error",
                }
            )
        )
        template = cls.env["recurring.contract.template"].create(
            {
                "name": "RB Matrix Plan",
                "line_ids": [
                    Command.create({"product_id": cls.product_a.id, "price_unit": 9})
                ],
            }
        )
        reason = cls.env["recurring.contract.close.reason"].create(
            {"name": "RB Matrix reason"}
        )
        records = {
            "recurring.contract": fresh,
            "recurring.contract.line": fresh.line_ids,
            "recurring.contract.period": billed.period_ids[:1],
            "recurring.contract.usage": pending_usage,
            "recurring.contract.usage:billed": billed_usage,
            "recurring.contract.suspension": paused.suspension_ids[:1],
            "recurring.contract.indexation": indexation,
            "recurring.price.index": index,
            "recurring.price.index.value": value,
            "recurring.mrr.movement": fresh.mrr_movement_ids[:1],
            "recurring.forecast.line": forecast,
            "recurring.payment.attempt": attempt,
            "recurring.contract.close.reason": reason,
            "recurring.contract.template": template,
            "recurring.contract.template.line": template.line_ids,
        }
        create_vals = {
            "recurring.contract": {
                "partner_id": cls.customer.id,
                "date_start": date(2026, 1, 1),
            },
            "recurring.contract.line": {
                "contract_id": fresh.id,
                "product_id": cls.product_a.id,
                "price_unit": 5.0,
            },
            "recurring.contract.period": {
                "contract_id": billed.id,
                "period_index": 9,
                "date_start": date(2026, 10, 1),
                "date_end": date(2026, 10, 31),
                "state": "skipped",
            },
            "recurring.contract.usage": {
                "line_id": usage_line.id,
                "date": date(2026, 2, 6),
                "quantity": 1,
                "reference": "matrix-new",
            },
            "recurring.contract.suspension": {
                "contract_id": fresh.id,
                "date_start": date(2026, 5, 1),
                "reason": paused.suspension_ids[:1].reason,
            },
            "recurring.contract.indexation": {
                "contract_id": fresh.id,
                "date": date(2028, 3, 1),
            },
            "recurring.price.index": {"name": "RB New Index", "code": "RBNEW"},
            "recurring.price.index.value": {
                "index_id": index.id,
                "date": date(2026, 2, 1),
                "value": 101.0,
            },
            "recurring.mrr.movement": {
                "contract_id": fresh.id,
                "date": date(2026, 3, 1),
                "kind": "expansion",
            },
            "recurring.forecast.line": {
                "contract_id": fresh.id,
                "company_id": fresh.company_id.id,
                "date": date(2026, 5, 1),
                "amount": 1.0,
            },
            "recurring.payment.attempt": {
                "invoice_id": invoice.id,
                "contract_id": billed.id,
                "company_id": billed.company_id.id,
                "date": date(2026, 2, 2),
            },
            "recurring.contract.close.reason": {"name": "RB new reason"},
            "recurring.contract.template": {"name": "RB new plan"},
            "recurring.contract.template.line": {
                "template_id": template.id,
                "product_id": cls.product_a.id,
            },
        }
        for key, record in records.items():
            assert len(record) == 1, f"no sample record for {key}"
        assert set(records) == set(SAMPLES), "the samples and the table differ"
        return {"records": records, "create_vals": create_vals}

    # ------------------------------------------------------------------

    def _try(self, operation, *args):
        """True when ``operation(*args)`` succeeds (then rolled back), False when it
        is refused (access error, or a guard's user error)."""
        try:
            with self.env.cr.savepoint():
                operation(*args)
                self.env.flush_all()
                raise _RolledBack
        except _RolledBack:
            return True
        except (AccessError, UserError):
            return False
        finally:
            self.env.invalidate_all()

    def _write_value(self, record, name):
        return record._convert_to_write({name: record[name]})[name]

    def test_every_model_of_the_addon_is_in_the_table(self):
        models = {
            name
            for name, model in self.env.registry.items()
            if model._original_module == "recurring_billing"
            and not model._abstract
            and not model._transient
        }
        self.assertEqual(models, set(POLICY))

    def test_policy_matrix(self):
        """Every cell of the table, tried: (group, model, operation, field)."""
        records = self.samples["records"]
        create_vals = self.samples["create_vals"]
        mismatches, cells = [], 0

        def check(group, key, operation, field, expected, outcome):
            nonlocal cells
            cells += 1
            if outcome != expected:
                said = {True: "yes", False: "no", None: "missing"}[expected]
                mismatches.append(
                    f"{group:13} {key:36} {operation:6} {field or '':28} "
                    f"table {said}, got {'yes' if outcome else 'no'}"
                )

        for key, sample in records.items():
            model_name = key.split(":")[0]
            policy = POLICY[model_name] if key == model_name else SAMPLES[key]
            write_policy = {}
            for groups, names in policy["write"].items():
                for name in names:
                    write_policy[name] = set(groups)
            fields = policy_fields(self.env[model_name])
            # A field the table does not list is tried all the same: the
            # failure says what each group can do with it now.
            missing = set(fields) - set(write_policy)
            extra = sorted(set(write_policy) - set(fields))
            self.assertFalse(extra, f"{key}: fields not on the model: {extra}")
            for group, user in self.users.items():
                record = sample.with_user(user)
                check(
                    group,
                    key,
                    "read",
                    None,
                    group in policy["read"],
                    self._try(record.read, ["display_name"]),
                )
                if "create" in policy:
                    vals = create_vals[model_name]
                    check(
                        group,
                        key,
                        "create",
                        None,
                        group in policy["create"],
                        self._try(
                            self.env[model_name].with_user(user).create, dict(vals)
                        ),
                    )
                check(
                    group,
                    key,
                    "unlink",
                    None,
                    group in policy["unlink"],
                    self._try(record.unlink),
                )
                for name in fields:
                    value = self._write_value(sample, name)
                    expected = None if name in missing else group in write_policy[name]
                    check(
                        group,
                        key,
                        "write",
                        name,
                        expected,
                        self._try(record.write, {name: value}),
                    )
        _logger.info(
            "rights matrix: %s (group, model, operation, field) cells checked", cells
        )
        self.assertFalse(
            mismatches,
            "the rights differ from the table (docs/rights.md):\n"
            + "\n".join(mismatches),
        )
        # Every cell of the table was tried: each group, on each sample, reads,
        # creates (where the table says who may), unlinks and writes each field.
        expected = len(self.users) * sum(
            2
            + ("create" in (POLICY[key] if key in POLICY else SAMPLES[key]))
            + len(policy_fields(self.env[key.split(":")[0]]))
            for key in records
        )
        self.assertEqual(cells, expected)
        self.assertEqual(cells, 1530, "update the count in docs/rights.md")
