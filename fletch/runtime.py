"""Opens the lake's shared parts (catalog, storage profiles) from a configuration."""

from __future__ import annotations

from pathlib import Path

from fletch.config import FletchConfig
from lake.catalog import Catalog, open_catalog
from lake.profiles import ANY_ORG, StorageProfile, StorageProfiles


def open_lake(config: FletchConfig) -> tuple[Catalog, StorageProfiles]:
    Path(config.data_dir).mkdir(parents=True, exist_ok=True)
    if config.storage_profiles:
        profiles = StorageProfiles.load(config.storage_profiles, base_dir=config.data_dir)
    else:
        profiles = StorageProfiles([StorageProfile(org=ANY_ORG, instance_num=1, provider="file",
                                                   bucket=str(Path(config.data_dir, "lake").resolve()),
                                                   collector="local")])
    return open_catalog(config.catalog_dsn), profiles
