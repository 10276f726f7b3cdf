"""The catalog: validated from YAML (CONTRACT.md §2) and written to the warehouse as tables."""
from .errors import CatalogError, CatalogIssue
from .tables import CATALOG_TABLES, write_catalog
from .validate import Catalog, validate_catalog

__all__ = ["CATALOG_TABLES", "Catalog", "CatalogError", "CatalogIssue", "validate_catalog", "write_catalog"]
