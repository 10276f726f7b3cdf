"""Errors that name the file, the object and the field, and say what was expected."""
from __future__ import annotations

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
