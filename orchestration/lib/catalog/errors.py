"""Errors that name the file, the object and the field, and say what was expected."""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class CatalogIssue:
    file: str          # e.g. "plans.yaml"
    obj: str           # e.g. 'plan "startup"'
    field: str         # e.g. "charges[1].properties.graduated_ranges[0].from_value"
    message: str       # what is wrong and what was expected

    def __str__(self) -> str:
        where = f"{self.file}: {self.obj}" if self.obj else self.file
        if self.field:
            where += f": {self.field}"
        return f"{where}: {self.message}"


class CatalogError(Exception):
    """The catalog was refused. Holds every issue found, so a user fixes them in one pass."""

    def __init__(self, issues: list[CatalogIssue], folder: str = ""):
        self.issues = issues
        self.folder = folder
        head = f"catalog {folder} refused: " if folder else "catalog refused: "
        count = f"{len(issues)} problem" + ("s" if len(issues) != 1 else "")
        lines = [f"{head}{count}"] + [f"  - {issue}" for issue in issues[:50]]
        if len(issues) > 50:
            lines.append(f"  … and {len(issues) - 50} more")
        super().__init__("\n".join(lines))


# A model that refuses part of the catalog once it can see the invoices (a credit note request,
# int_credit_note_checks) fails with "<file> refused: …" and one "  - <file>: <object>: <field>:
# <message>" line per problem, worded as CatalogIssue words them.
_REFUSAL = re.compile(r"(\S+\.yaml refused: [^\n]*(?:\n\s+- \S+\.yaml: [^\n]*)*)")


def catalog_refusal(text: str) -> str | None:
    """The refusal a dbt model raised, found in dbt's error output, or None."""
    found = _REFUSAL.search(text)
    return found.group(1) if found else None
