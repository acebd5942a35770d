"""The segment catalog ("lrdb"): SQLite embedded by default, PostgreSQL for fleets."""

from lake.catalog.base import Catalog, CatalogError, MetricMetadata, open_catalog

__all__ = ["Catalog", "CatalogError", "MetricMetadata", "open_catalog"]
