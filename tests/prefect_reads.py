"""What a test reads back from the Prefect server its flows ran on."""

from __future__ import annotations

import asyncio


def latest_artifact(key: str) -> str:
    """The data of the newest artifact with ``key``; it must say what it is (a description)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    async def read() -> str:
        async with get_client() as client:
            (artifact,) = await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
                sort=ArtifactSort.CREATED_DESC,
                limit=1,
            )
        assert artifact.description, f"artifact {key} has no description"
        return str(artifact.data)

    return asyncio.run(read())
