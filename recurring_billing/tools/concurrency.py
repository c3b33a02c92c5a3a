# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""PostgreSQL errors that mean "another transaction got there first": the
engine, the batch sizing and the charging step retry them (or give the batch
up for this call), and never report them as a problem of a contract. Kept
apart from the models so that every model and bridge imports one tuple."""

from psycopg2 import errors as pg_errors

CONCURRENCY_ERRORS = (
    pg_errors.SerializationFailure,
    pg_errors.DeadlockDetected,
    pg_errors.LockNotAvailable,
)
