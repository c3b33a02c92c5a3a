"""What must hold after any billing run, read from the tables with plain SQL
(not through the engine's ORM code, which is what is being checked).

Each function takes an open psycopg2 connection (or a database name, see
``rbtools.db.q``) and returns ``Check`` results: the fault suite prints them
as its checks, the benchmark turns the failed ones into its failures.
"""

import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from .db import q


@dataclass(frozen=True)
class Check:
    ok: bool
    label: str
    detail: str = ""

    def __str__(self):
        return f"{self.label}: {self.detail}" if self.detail else self.label


def ledger_and_moves(conn, contract_ids):
    """Ledger rows (id, contract_id, date_start, state) and invoices (id,
    contract, period, state, name, journal, move type) of the contracts."""
    ledger = q(
        conn,
        "SELECT id, contract_id, date_start, state FROM recurring_contract_period "
        "WHERE contract_id = ANY(%s)",
        [list(contract_ids)],
    )
    moves = q(
        conn,
        "SELECT id, recurring_contract_id, recurring_period_id, state, name, "
        "journal_id, move_type FROM account_move "
        "WHERE recurring_contract_id = ANY(%s)",
        [list(contract_ids)],
    )
    return ledger, moves


def exactly_once(conn, expected, unbilled=(), partial=False):
    """Every due (contract, period) of ``expected`` ({contract id: [period
    starts]}, computed by the caller, not by the engine) is in the ledger
    once, with exactly one invoice that is not cancelled, and that invoice
    is posted; ``unbilled`` contracts have neither ledger row nor invoice.
    ``partial``: the run is not over, only the oldest periods of each
    contract need be there (and nothing else).

    Returns three checks: the ledger, the invoices, their state."""
    unbilled = set(unbilled)
    ledger, moves = ledger_and_moves(conn, expected)
    if partial:
        # Mid-run: a contract may have only its oldest periods billed yet.
        billed = Counter(r[1] for r in ledger)
        expected = {cid: s[: billed[cid]] for cid, s in expected.items()}
    want = {
        (cid, d)
        for cid, starts in expected.items()
        if cid not in unbilled
        for d in starts
    }
    rows = Counter((cid, d) for _id, cid, d, state in ledger if state != "skipped")
    dup_rows = [k for k, n in rows.items() if n > 1]
    missing = want - set(rows)
    extra = set(rows) - want
    not_invoiced = [r for r in ledger if r[3] != "invoiced"]
    checks = [
        Check(
            not (dup_rows or missing or extra or not_invoiced),
            "ledger rows == expected",
            f"{len(rows)} rows for {len(want)} due periods"
            + (f"; missing {len(missing)}" if missing else "")
            + (f"; unexpected {len(extra)}" if extra else "")
            + (f"; duplicated {len(dup_rows)}" if dup_rows else "")
            + (f"; {len(not_invoiced)} not in state invoiced" if not_invoiced else ""),
        )
    ]
    live = [m for m in moves if m[3] != "cancel"]
    per_period = Counter(m[2] for m in live)
    invoiced_ids = {r[0] for r in ledger if r[3] == "invoiced"}
    twice = [p for p, n in per_period.items() if n > 1]
    without_move = [p for p in invoiced_ids if per_period.get(p, 0) == 0]
    orphan = [m for m in live if m[2] is None or m[2] not in invoiced_ids]
    checks.append(
        Check(
            not (twice or without_move or orphan) and len(live) == len(want),
            "invoices == expected, one per period",
            f"{len(live)} invoices not cancelled for {len(want)} due periods"
            + (f"; {len(twice)} period(s) with 2+ invoices" if twice else "")
            + (
                f"; {len(without_move)} ledger row(s) without invoice"
                if without_move
                else ""
            )
            + (f"; {len(orphan)} invoice(s) without ledger row" if orphan else ""),
        )
    )
    states = Counter(m[3] for m in moves)
    checks.append(
        Check(
            states.get("draft", 0) == 0 and all(m[3] == "posted" for m in live),
            "all posted, no draft left",
            ", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "no invoice",
        )
    )
    return checks


def billed_twice(conn):
    """(contract, period start) pairs with more than one invoice that is not
    cancelled, read from the invoice lines (``recurring_date_start``): holds
    for invoices made without the engine's ledger too."""
    count = q(
        conn,
        """SELECT count(*) FROM (
               SELECT m.recurring_contract_id, l.recurring_date_start
                 FROM account_move m JOIN account_move_line l ON l.move_id = m.id
                WHERE m.move_type = 'out_invoice' AND m.state != 'cancel'
                  AND l.display_type = 'product'
                GROUP BY 1, 2 HAVING count(DISTINCT m.id) > 1) d""",
    )[0][0]
    return Check(
        not count,
        "no (contract, period) billed twice",
        f"{count} (contract, period) billed twice" if count else "",
    )


def numbering(conn):
    """Posted names unique, and the numbers used (posted or cancelled after
    posting) contiguous from 1 in every sales journal: a rolled-back batch
    must give its numbers back."""
    rows = q(
        conn,
        "SELECT m.journal_id, m.name, m.state FROM account_move m "
        "JOIN account_journal j ON j.id = m.journal_id WHERE j.type = 'sale' "
        "AND m.name IS NOT NULL AND m.name != '/'",
    )
    posted = Counter((j, n) for j, n, s in rows if s == "posted")
    dups = [k for k, c in posted.items() if c > 1]
    groups = defaultdict(list)
    bad_format = []
    for journal, name, _state in rows:
        match = re.match(r"^(.*?)(\d+)$", name)
        if not match:
            bad_format.append(name)
            continue
        groups[(journal, match.group(1))].append(int(match.group(2)))
    gaps = []
    spans = []
    for (_journal, prefix), numbers in sorted(groups.items()):
        numbers.sort()
        if numbers != list(range(1, len(numbers) + 1)):
            holes = sorted(set(range(1, numbers[-1] + 1)) - set(numbers))
            gaps.append(f"{prefix}: {len(holes)} missing e.g. {holes[:5]}")
        spans.append(f"{prefix}1..{numbers[-1]}")
    return Check(
        not (dups or gaps or bad_format),
        "posted names unique and contiguous per journal",
        (", ".join(spans) or "no posted invoice")
        + (f"; DUPLICATES {dups[:5]}" if dups else "")
        + (f"; GAPS {gaps}" if gaps else "")
        + (f"; unparsed {bad_format[:5]}" if bad_format else ""),
    )
