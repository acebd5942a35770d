from __future__ import annotations

import pytest

from lake.profiles import StorageProfile


@pytest.fixture
def file_profile(tmp_path) -> StorageProfile:
    return StorageProfile(org="*", instance_num=1, provider="file", bucket=str(tmp_path / "lake"),
                          collector="local")
