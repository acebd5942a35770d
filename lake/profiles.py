"""Storage profiles: which filesystem and bucket hold an (org, instance_num)'s segment files."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pyarrow.fs as pafs
import yaml

Provider = Literal["file", "s3", "gcs", "azure"]
ANY_ORG = "*"
_PROFILE_KEYS = {"org", "instance_num", "provider", "bucket", "collector", "region", "endpoint",
                 "path_style", "prefix"}


class ProfileError(Exception):
    """A storage profile file is malformed, or no profile matches an (org, instance)."""


@dataclass(frozen=True, slots=True)
class StorageProfile:
    org: str
    instance_num: int
    provider: Provider
    bucket: str
    collector: str
    region: str = ""
    endpoint: str = ""
    path_style: bool = False
    prefix: str = ""

    def filesystem(self) -> pafs.FileSystem:
        """A filesystem rooted at the bucket (and prefix): object keys are paths inside it."""
        return pafs.SubTreeFileSystem(self.root_path(), self._base_filesystem())

    def root_path(self) -> str:
        root = self.bucket.rstrip("/")
        if self.prefix:
            root = f"{root}/{self.prefix.strip('/')}"
        return root

    def _base_filesystem(self) -> pafs.FileSystem:
        if self.provider == "file":
            Path(self.bucket).mkdir(parents=True, exist_ok=True)
            return pafs.LocalFileSystem()
        if self.provider == "s3":
            kwargs: dict[str, Any] = {"region": self.region or "us-east-1",
                                      "force_virtual_addressing": not self.path_style}
            if self.endpoint:
                scheme, _, host = self.endpoint.rpartition("://")
                kwargs["endpoint_override"] = host or self.endpoint
                kwargs["scheme"] = scheme or "https"
            return pafs.S3FileSystem(**kwargs)
        if self.provider == "gcs":
            kwargs = {"endpoint_override": self.endpoint} if self.endpoint else {}
            if self.endpoint.startswith("http://"):
                kwargs = {"endpoint_override": self.endpoint.removeprefix("http://"), "scheme": "http"}
            return pafs.GcsFileSystem(**kwargs)
        if self.provider == "azure":
            account = os.environ.get("AZURE_STORAGE_ACCOUNT_NAME", "")
            if not account:
                raise ProfileError("azure profiles need AZURE_STORAGE_ACCOUNT_NAME in the environment")
            kwargs = {"account_name": account}
            if self.endpoint:
                scheme, _, host = self.endpoint.rpartition("://")
                kwargs["blob_storage_authority"] = host
                kwargs["blob_storage_scheme"] = scheme or "https"
            return pafs.AzureFileSystem(**kwargs)
        raise ProfileError(f"unknown storage provider {self.provider!r}")


class StorageProfiles:
    """Lookup of the profile for (org, instance_num); an exact org wins over `org: "*"`."""

    def __init__(self, profiles: list[StorageProfile]) -> None:
        self._by_key: dict[tuple[str, int], StorageProfile] = {}
        for profile in profiles:
            key = (profile.org, profile.instance_num)
            if key in self._by_key:
                raise ProfileError(f"two storage profiles for org {profile.org!r} instance "
                                   f"{profile.instance_num}")
            self._by_key[key] = profile

    def resolve(self, org: str, instance_num: int = 1) -> StorageProfile:
        profile = self._by_key.get((org, instance_num)) or self._by_key.get((ANY_ORG, instance_num))
        if profile is None:
            raise ProfileError(f"no storage profile for org {org!r} instance {instance_num}")
        return profile

    def default_instance(self, org: str) -> int:
        """The lowest instance number configured for an org (new segments are written there)."""
        instances = [i for (o, i) in self._by_key if o == org] or [
            i for (o, i) in self._by_key if o == ANY_ORG]
        if not instances:
            raise ProfileError(f"no storage profile for org {org!r}")
        return min(instances)

    def __iter__(self):
        return iter(self._by_key.values())

    @classmethod
    def load(cls, path: str | os.PathLike[str], base_dir: str | os.PathLike[str] = ".") -> StorageProfiles:
        """Read a profiles YAML file; relative `file` buckets are resolved against `base_dir`."""
        try:
            document = yaml.safe_load(Path(path).read_text())
        except FileNotFoundError:
            raise ProfileError(f"storage profiles file {path} does not exist") from None
        except yaml.YAMLError as err:
            raise ProfileError(f"{path}: not valid YAML: {err}") from None
        if not isinstance(document, dict) or not isinstance(document.get("profiles"), list):
            raise ProfileError(f"{path}: expected a mapping with a `profiles` list")
        return cls([_parse_profile(entry, i, path, Path(base_dir))
                    for i, entry in enumerate(document["profiles"])])


def _parse_profile(entry: Any, index: int, path: Any, base_dir: Path) -> StorageProfile:
    where = f"{path}: profiles[{index}]"
    if not isinstance(entry, dict):
        raise ProfileError(f"{where}: expected a mapping")
    unknown = set(entry) - _PROFILE_KEYS
    if unknown:
        raise ProfileError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    missing = {"org", "provider", "bucket", "collector"} - set(entry)
    if missing:
        raise ProfileError(f"{where}: missing key(s) {', '.join(sorted(missing))}")
    provider = entry["provider"]
    if provider not in ("file", "s3", "gcs", "azure"):
        raise ProfileError(f"{where}: provider must be file, s3, gcs or azure, not {provider!r}")
    bucket = str(entry["bucket"])
    if provider == "file" and not Path(bucket).is_absolute():
        bucket = str((base_dir / bucket).resolve())
    instance = entry.get("instance_num", 1)
    if not isinstance(instance, int) or isinstance(instance, bool) or instance < 0:
        raise ProfileError(f"{where}: instance_num must be a non-negative integer")
    path_style = entry.get("path_style", False)
    if not isinstance(path_style, bool):
        raise ProfileError(f"{where}: path_style must be true or false")
    return StorageProfile(org=str(entry["org"]), instance_num=instance, provider=provider,
                          bucket=bucket, collector=str(entry["collector"]),
                          region=str(entry.get("region", "")), endpoint=str(entry.get("endpoint", "")),
                          path_style=path_style, prefix=str(entry.get("prefix", "")))
