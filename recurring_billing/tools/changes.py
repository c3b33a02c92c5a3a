# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What a write really changes: a form saves unchanged values too, and a
frozen field (a billed schedule, a billed line's price) must refuse only a
real change."""


def changed_fields(record, vals, field_names):
    """Those of ``field_names`` that ``vals`` really changes on ``record``
    (one record)."""
    record.ensure_one()
    changed = []
    for name in field_names:
        if name not in vals:
            continue
        field = record._fields[name]
        if field.type in ("one2many", "many2many"):
            # Commands (create, update, delete): any of them changes it.
            if vals[name]:
                changed.append(name)
        elif field.convert_to_write(record[name], record) != field.convert_to_write(
            field.convert_to_cache(vals[name], record), record
        ):
            changed.append(name)
    return changed
