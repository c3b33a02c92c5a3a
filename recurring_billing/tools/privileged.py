# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What only the addon's own steps write: a contract's state and engine
fields (the lifecycle actions, the engine, the charging service), a line's
continuation (Change), an invoice's ledger row (the engine). They write it
under a context key whose value is this module's private object: an RPC
client sends JSON, so whatever context it passes it can never forge it, and
no right is granted to any user for it."""

PRIVILEGED_WRITE_KEY = "recurring_privileged_write"
_PRIVILEGED_WRITE = object()


def privileged_context():
    """The context of a privileged step: ``records.with_context(**it)``."""
    return {PRIVILEGED_WRITE_KEY: _PRIVILEGED_WRITE}


def is_privileged_write(env):
    """True for the superuser and inside a privileged step."""
    return env.su or env.context.get(PRIVILEGED_WRITE_KEY) is _PRIVILEGED_WRITE


def computed_fields_in(model, vals):
    """The fields of ``vals`` that the ORM computes and stores on ``model``
    (computed or related, read-only, without inverse). The ORM writes what
    it is given for them and keeps it until a dependency changes: a user
    never sets them (a next invoice date set by hand would hide a contract
    from the billing run, a customer set apart from the partner would show
    it to another customer's portal)."""
    return [
        name
        for name in vals
        if (field := model._fields.get(name))
        and field.store
        and field.compute
        and field.readonly
        and not field.inverse
    ]
