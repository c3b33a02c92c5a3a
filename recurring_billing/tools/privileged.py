# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What only the addon's own steps write: a contract's state (the lifecycle
actions and the engine), an invoice's ledger row (the engine). They write it
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
